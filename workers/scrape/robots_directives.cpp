#include "workers/scrape/robots_directives.hpp"

#include <array>
#include <string>

namespace furrsight::workers {
namespace {

// Directives that take a value after a colon: "max-snippet: 20" is not an agent.
constexpr std::array<std::string_view, 4> kValuedDirectives = {"max-snippet", "max-image-preview",
                                                               "max-video-preview", "unavailable_after"};

std::string LowerTrim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

void Apply(RobotsDirectives& out, std::string_view directive) {
  if (directive == "noindex") out.noindex = true;
  if (directive == "nofollow") out.nofollow = true;
  if (directive == "none") out.noindex = out.nofollow = true;
  if (directive == "noai") out.noai = true;
  if (directive == "noimageai") out.noimageai = true;
}

}  // namespace

void RobotsDirectives::Merge(const RobotsDirectives& other) {
  noindex = noindex || other.noindex;
  nofollow = nofollow || other.nofollow;
  noai = noai || other.noai;
  noimageai = noimageai || other.noimageai;
}

RobotsDirectives ParseRobotsDirectives(std::string_view value, std::string_view product_token) {
  std::string token = LowerTrim(product_token);
  RobotsDirectives out;
  std::string agent;  // empty: applies to every crawler
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t end = value.find(',', start);
    if (end == std::string_view::npos) end = value.size();
    std::string item = LowerTrim(value.substr(start, end - start));
    start = end + 1;
    if (std::size_t colon = item.find(':'); colon != std::string::npos) {
      std::string head = LowerTrim(std::string_view(item).substr(0, colon));
      bool valued = false;
      for (auto name : kValuedDirectives) valued = valued || head == name;
      if (valued) continue;
      agent = head;
      item = LowerTrim(std::string_view(item).substr(colon + 1));
    }
    if (agent.empty() || agent == token) Apply(out, item);
  }
  return out;
}

}  // namespace furrsight::workers
