// The inference settings (inference_* in `furrsight config`, docs/configuration.md)
// as the client options and the image size the handlers use.
#pragma once

#include "events/base/config.hpp"
#include "workers/inference/chat_client.hpp"

namespace furrsight::workers::inference {

struct InferenceSettings {
  ChatClientOptions client;  // base_url empty: "no model endpoint configured"
  int image_max_side = 1024;

  static InferenceSettings FromConfig(const base::Config& config);
  bool configured() const { return !client.base_url.empty(); }
};

// The error an inference job fails with when no endpoint is set, with what to do.
inline constexpr std::string_view kNoEndpointError =
    "no model endpoint configured: set inference_base_url (e.g. --inference-base-url http://gpu-1:8000/v1 or "
    "FURRSIGHT_INFERENCE_BASE_URL) to a vLLM or other OpenAI-compatible server; see docs/inference.md";

}  // namespace furrsight::workers::inference
