#include "orchestrator/api/http/api_response.hpp"

#include <boost/json/serialize.hpp>

namespace furrsight::api {
namespace {

std::string WithoutLineBreaks(std::string_view text) {
  std::string out;
  for (char c : text)
    if (c != '\r' && c != '\n') out += c;
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

EventStreamWriter::EventStreamWriter(std::function<bool(std::string_view)> write, std::function<bool()> wanted)
    : write_(std::move(write)), wanted_(std::move(wanted)) {}

bool EventStreamWriter::open() const { return !failed_ && (!wanted_ || wanted_()); }

bool EventStreamWriter::Write(std::string_view chunk) {
  if (!open()) return false;
  if (!write_(chunk)) failed_ = true;
  return !failed_;
}

bool EventStreamWriter::Send(std::string_view event, std::string_view id, const boost::json::value& data) {
  std::string chunk;
  if (!event.empty()) chunk += "event: " + WithoutLineBreaks(event) + "\n";
  if (!id.empty()) chunk += "id: " + WithoutLineBreaks(id) + "\n";
  chunk += "data: " + boost::json::serialize(data) + "\n\n";  // serialized JSON has no raw newline
  return Write(chunk);
}

bool EventStreamWriter::Comment(std::string_view text) {
  std::string chunk = ": ";
  for (char c : text) {
    if (c == '\r') continue;
    chunk += c;
    if (c == '\n') chunk += ": ";
  }
  chunk += "\n\n";
  return Write(chunk);
}

ApiResponse ApiResponse::Json(unsigned status, const boost::json::value& value) {
  ApiResponse response;
  response.status = status;
  response.body = boost::json::serialize(value);
  return response;
}

ApiResponse ApiResponse::Text(unsigned status, std::string content_type, std::string body) {
  ApiResponse response;
  response.status = status;
  response.content_type = std::move(content_type);
  response.body = std::move(body);
  return response;
}

ApiResponse ApiResponse::Redirect(std::string location) {
  ApiResponse response;
  response.status = 302;
  response.content_type.clear();
  response.headers.emplace_back("Location", std::move(location));
  return response;
}

ApiResponse ApiResponse::File(std::string content_type, std::filesystem::path path) {
  ApiResponse response;
  response.content_type = std::move(content_type);
  response.kind = Kind::kFile;
  response.file = std::move(path);
  return response;
}

ApiResponse ApiResponse::EventStream(std::function<void(EventStreamWriter&)> producer) {
  ApiResponse response;
  response.content_type = "text/event-stream";
  response.kind = Kind::kEventStream;
  response.event_producer = std::move(producer);
  return response;
}

ApiResponse& ApiResponse::WithHeader(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::string_view ApiResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (EqualsIgnoreCase(key, name)) return value;
  return {};
}

}  // namespace furrsight::api
