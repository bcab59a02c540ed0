// Query generation (GENERATE_QUERIES, the seed's Phase 1): a topic -> N
// creative image-search queries from a language model, asked for as
// {"queries": [N strings]} through response_format json_schema. The root is
// an object holding the array, not a bare array: OpenAI's strict structured
// outputs require an object at the root, and vLLM accepts either.
//
// Same contract as pair_analysis: free functions are pure and thread-safe;
// QueryGenerator is immutable, holds a reference to its transport, asks once
// more after an invalid answer and never throws for an expected failure.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "events/base/error.hpp"
#include "workers/inference/chat_client.hpp"
#include "workers/inference/prompts.hpp"
#include "workers/inference/structured_answer.hpp"

namespace furrsight::workers::inference {

inline constexpr std::string_view kQuerySchemaName = "search_queries";
inline constexpr std::string_view kQueryPromptName = "generate_queries";
inline constexpr int kMaxQueryCount = 100;
inline constexpr int kMaxQueryLength = 200;

// {"queries": array of exactly `count` non-empty strings}.
boost::json::object QuerySchema(int count);

struct QueryOptions {
  int max_tokens = 1024;
  double temperature = 0.8;  // creative on purpose
};

// kInvalidArgument for an empty topic or a count outside 1..kMaxQueryCount.
base::Result<boost::json::object> BuildQueryRequest(const Prompt& prompt, std::string_view topic, int count,
                                                    const QueryOptions& options = {});

// The queries, trimmed, duplicates (case-insensitive) removed, in order.
base::Result<std::vector<std::string>> ParseQueryAnswer(std::string_view content, int count);

// ModelCalls (prompt_version "generate_queries.v1") plus the queries.
struct QueryGeneration : ModelCalls {
  std::vector<std::string> queries;
};

class QueryGenerator {
 public:
  QueryGenerator(ChatTransport& transport, Prompt prompt, QueryOptions options = {});
  QueryGeneration Generate(std::string_view topic, int count) const;

 private:
  ChatTransport& transport_;
  Prompt prompt_;
  QueryOptions options_;
};

}  // namespace furrsight::workers::inference
