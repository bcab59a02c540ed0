// Helpers shared by the scrape tests that talk to a real HttpTestServer.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "workers/scrape/curl_fetcher.hpp"

namespace furrsight::workers::testing {

// A small but well-formed JPEG header (SOF0 with the given size) followed by
// `payload`, so different payloads give different bytes (and hashes).
inline std::string JpegBytes(int width, int height, std::string_view payload) {
  std::string out = "\xFF\xD8\xFF\xE0";
  out += std::string("\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 16);
  out += "\xFF\xC0";
  out += std::string("\x00\x11\x08", 3);
  out += static_cast<char>(height >> 8);
  out += static_cast<char>(height & 0xFF);
  out += static_cast<char>(width >> 8);
  out += static_cast<char>(width & 0xFF);
  out += std::string("\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01", 10);
  out += "\xFF\xFE";  // COM segment carrying the payload
  std::size_t length = payload.size() + 2;
  out += static_cast<char>(length >> 8);
  out += static_cast<char>(length & 0xFF);
  out += payload;
  out += "\xFF\xD9";
  return out;
}

// Options for talking to the test server: loopback allowed, no politeness
// delay, short timeouts.
inline FetcherOptions LoopbackOptions() {
  FetcherOptions options;
  auto guard = AddressGuard::FromAllowlist("loopback");
  EXPECT_TRUE(guard.has_value());
  options.guard = *guard;
  options.min_host_delay = std::chrono::milliseconds(0);
  options.connect_timeout = std::chrono::milliseconds(2'000);
  options.total_timeout = std::chrono::milliseconds(10'000);
  return options;
}

inline FetchRequest Request(std::string_view url, FetchKind kind = FetchKind::kPage, std::uint64_t id = 1) {
  auto parsed = Url::Parse(url);
  EXPECT_TRUE(parsed.has_value()) << url;
  FetchRequest request;
  request.id = id;
  request.url = parsed ? *parsed : Url();
  request.kind = kind;
  return request;
}

// Submits the requests and waits (at most 60 s) for all their results.
inline std::vector<FetchResult> FetchAll(HttpFetcher& fetcher, std::vector<FetchRequest> requests) {
  std::size_t expected = requests.size();
  for (auto& request : requests) fetcher.Submit(std::move(request));
  std::vector<FetchResult> results;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (results.size() < expected && std::chrono::steady_clock::now() < deadline)
    for (auto& result : fetcher.Wait(std::chrono::milliseconds(100))) results.push_back(std::move(result));
  EXPECT_EQ(results.size(), expected) << "fetches did not finish in time";
  return results;
}

inline FetchResult FetchOne(HttpFetcher& fetcher, FetchRequest request) {
  auto results = FetchAll(fetcher, {std::move(request)});
  return results.empty() ? FetchResult{} : std::move(results.front());
}

inline std::string ClassOf(const FetchResult& result) {
  if (result.handed_over) return "handed_over";
  return result.failure ? std::string(FailureClassName(*result.failure)) : "ok";
}

}  // namespace furrsight::workers::testing
