#include "workers/sample_site/site_handler.hpp"

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace furrsight::workers::sample_site {
namespace {

constexpr std::string_view kHtml = "text/html; charset=utf-8";

std::shared_ptr<const std::string> Text(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

Reply ErrorPage(int status, std::string_view title) {
  Reply r;
  r.status = status;
  r.content_type = std::string(kHtml);
  r.body = Text(fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{0}</title></head>\n"
      "<body><h1>{0}</h1><p><a href=\"/\">Home</a></p></body></html>\n",
      title));
  return r;
}

}  // namespace

std::string TargetPath(std::string_view target) {
  if (target.starts_with("http://") || target.starts_with("https://")) {
    const std::size_t slash = target.find('/', target.find("//") + 2);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  const std::size_t end = target.find_first_of("?#");
  std::string path(target.substr(0, end));
  return path.empty() ? "/" : path;
}

char FillerByte(std::uint64_t offset) {
  std::uint64_t z = (offset / 8) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9ULL;
  return static_cast<char>((z >> (8 * (offset % 8))) & 0xFF);
}

SiteHandler::SiteHandler(const Site& site, const AccessLog& log, std::string default_base_url)
    : site_(site), log_(log), default_base_url_(std::move(default_base_url)) {}

Reply SiteHandler::Control(std::string_view path, const SiteRequest& request) const {
  if (!request.from_loopback) return ErrorPage(404, "Not found");
  Reply r;
  r.record = false;
  r.content_type = "application/json";
  r.headers.emplace_back("Cache-Control", "no-store");
  if (path == kGroundTruthPath) {
    const std::string base = request.host.empty() ? default_base_url_ : "http://" + request.host;
    r.body = Text(boost::json::serialize(ToJson(site_.truth, base)));
  } else {
    r.body = Text(boost::json::serialize(log_.ToJson()));
  }
  return r;
}

Reply SiteHandler::Handle(const SiteRequest& request) {
  const bool head = request.method == "HEAD";
  if (request.method != "GET" && !head) {
    Reply r = ErrorPage(405, "Method not allowed");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  const std::string path = TargetPath(request.target);
  Reply reply;
  if (path == kGroundTruthPath || path == kAccessLogPath) {
    reply = Control(path, request);
  } else if (const Resource* resource = site_.Find(path)) {
    bool first_time = false;
    if (resource->rate_limited_first) {
      std::lock_guard lock(mutex_);
      first_time = rate_limited_seen_.insert(path).second;
    }
    if (first_time) {
      reply = ErrorPage(429, "Too many requests");
      reply.headers.emplace_back("Retry-After", std::to_string(site_.options.retry_after_seconds));
    } else {
      reply.status = resource->status;
      reply.content_type = resource->content_type;
      reply.headers = resource->headers;
      reply.body = resource->body;
      reply.filler_bytes = resource->filler_bytes;
      reply.chunked = resource->chunked;
      if (resource->slow) reply.delay = site_.options.slow_delay;
    }
  } else {
    reply = ErrorPage(404, "Not found");
  }
  reply.head = head;
  return reply;
}

}  // namespace furrsight::workers::sample_site
