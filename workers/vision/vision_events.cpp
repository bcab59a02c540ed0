#include "workers/vision/vision_events.hpp"

#include <string>

namespace furrsight::workers::vision {

std::variant<events::v1::ImageValidated, events::v1::ImageRejected> ToImageEvent(const ValidationReport& report) {
  if (report.failure) {
    events::v1::ImageRejected rejected;
    rejected.set_rule(std::string(RuleName(report.failure->rule)));
    rejected.set_value(report.failure->value);
    rejected.set_threshold(report.failure->threshold);
    rejected.set_detail(report.failure->detail);
    return rejected;
  }
  const ImageMeasurements& m = report.measured;
  events::v1::ImageValidated validated;
  for (Rule rule : report.rules_applied) validated.add_rules(std::string(RuleName(rule)));
  validated.set_width(m.width);
  validated.set_height(m.height);
  validated.set_blur(m.blur.value_or(0));
  validated.set_brightness(m.brightness.value_or(0));
  if (m.phash) validated.set_phash(PerceptualHashHex(*m.phash));
  return validated;
}

void SetPairScores(const PairScore& score, events::v1::PairProposed& proposed) {
  proposed.set_similarity(score.composite);
  auto& scores = *proposed.mutable_scores();
  for (const auto& [name, value] : ScoreMap(score)) scores[name] = value;
}

}  // namespace furrsight::workers::vision
