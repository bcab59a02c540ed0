#include "workers/inference/inference_settings.hpp"

namespace furrsight::workers::inference {

InferenceSettings InferenceSettings::FromConfig(const base::Config& config) {
  InferenceSettings s;
  s.client.base_url = config.Get("inference_base_url");
  s.client.model = config.Get("inference_model");
  s.client.api_key = config.Get("inference_api_key");
  s.client.max_in_flight = config.GetInt("inference_max_in_flight");
  s.client.total_timeout = std::chrono::milliseconds(config.GetInt("inference_timeout_ms"));
  s.client.max_attempts = config.GetInt("inference_max_attempts");
  s.image_max_side = config.GetInt("inference_image_max_side");
  return s;
}

}  // namespace furrsight::workers::inference
