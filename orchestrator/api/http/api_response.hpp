// ApiResponse: what a handler answers, with no socket in it. Most responses
// carry their body in memory; File() streams a file from disk and
// EventStream() hands a producer a writer for Server-Sent Events.
//
// EventStreamWriter: given to an EventStream producer, which runs on a worker
// thread (never an io thread) and may block. Send and Comment return false
// once the client has gone, a write timed out, or the server is shutting
// down: the producer should then return. One producer uses a writer from one
// thread at a time.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

namespace furrsight::api {

class EventStreamWriter {
 public:
  // `write` sends a chunk of the stream and blocks until it is written,
  // returning false if it could not be; `wanted` returns false once the
  // server is stopping.
  EventStreamWriter(std::function<bool(std::string_view)> write, std::function<bool()> wanted);

  // One event: "event: <event>\nid: <id>\ndata: <json>\n\n". An empty event
  // or id leaves its line out; CR and LF in them are dropped.
  bool Send(std::string_view event, std::string_view id, const boost::json::value& data);
  // A comment (": text\n\n"), e.g. a keep-alive; every line is prefixed.
  bool Comment(std::string_view text);
  bool open() const;

 private:
  bool Write(std::string_view chunk);

  std::function<bool(std::string_view)> write_;
  std::function<bool()> wanted_;
  bool failed_ = false;
};

struct ApiResponse {
  enum class Kind { kBody, kFile, kEventStream };

  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  Kind kind = Kind::kBody;
  std::filesystem::path file;                                // kind == kFile
  std::function<void(EventStreamWriter&)> event_producer;    // kind == kEventStream

  static ApiResponse Json(unsigned status, const boost::json::value& value);
  static ApiResponse Text(unsigned status, std::string content_type, std::string body);
  // 302 Found with a Location header and no body.
  static ApiResponse Redirect(std::string location);
  // 200 with the file's bytes, streamed from disk; 404 not_found problem if
  // it cannot be opened when the response is sent.
  static ApiResponse File(std::string content_type, std::filesystem::path path);
  // 200 text/event-stream; the connection closes when `producer` returns.
  static ApiResponse EventStream(std::function<void(EventStreamWriter&)> producer);

  ApiResponse& WithHeader(std::string name, std::string value);
  // The first value of header `name` (case-insensitive), "" if absent.
  std::string_view Header(std::string_view name) const;
};

}  // namespace furrsight::api
