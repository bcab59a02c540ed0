// Asking a model for a structured answer (response_format json_schema), the
// part PairAnalyzer and QueryGenerator share: send the request, hand the
// answer's text to the caller's parser, ask once more when the answer is
// invalid (bad JSON, schema broken), and record what it all cost. A failed
// call is not asked again: the transport has already retried it.
//
// ParseStructuredAnswer() and JsonSchemaResponseFormat() are the pieces of
// structured output both requests use. Pure and thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "events/base/error.hpp"
#include "workers/inference/chat_client.hpp"

namespace furrsight::workers::inference {

// How asking for one structured answer ended and what it cost. Never a
// throw, never a drop: either ok, or the reason with the raw text kept.
struct ModelCalls {
  bool ok = false;
  bool call_failed = false;  // !ok because the transport failed (after its retries), not the answer
  std::string error;       // why, when !ok
  std::string raw_answer;  // the model's last text, verbatim ("" when no answer came)
  std::string model;
  std::string prompt_version;            // e.g. "pair_analysis.v1"
  std::chrono::milliseconds latency{0};  // summed over the calls, retries and waits included
  int prompt_tokens = 0;                 // summed over the calls
  int completion_tokens = 0;
  int model_calls = 0;  // answers requested: 0 (the request could not be built), 1 or 2
};

// The answer's text: "" when the parser took it, else why it is invalid.
using AnswerParser = std::function<std::string(std::string_view content)>;

inline constexpr int kMaxAnswers = 2;  // an invalid answer is asked for once more

// Fills the call fields of `out` (not model or prompt_version); ok when
// `parse` took an answer.
void AskForStructuredAnswer(ChatTransport& transport, const boost::json::object& request, const AnswerParser& parse,
                            ModelCalls& out);

// The answer text as JSON (a ```json fence tolerated), checked against
// `schema`. kInvalidArgument "invalid JSON: ..." / "schema violation: ...".
base::Result<boost::json::value> ParseStructuredAnswer(std::string_view content, const boost::json::object& schema);

// {"type":"json_schema","json_schema":{"name":name,"schema":schema,"strict":true}}
boost::json::object JsonSchemaResponseFormat(std::string_view name, const boost::json::object& schema);

}  // namespace furrsight::workers::inference
