// The results of this library in the shape of the events they become
// (events/catalog/proto/furrsight/events/v1/image.proto and pair.proto), so
// the validate and pair workers append exactly what was measured.
// Pure functions; thread-safe.
#pragma once

#include <variant>

#include <furrsight/events/v1/image.pb.h>
#include <furrsight/events/v1/pair.pb.h>

#include "workers/vision/image_validator.hpp"
#include "workers/vision/pair_score.hpp"

namespace furrsight::workers::vision {

// ImageValidated (the rules applied and the measurements) when the image
// passed; ImageRejected (the first failed rule, its value and threshold) when not.
std::variant<events::v1::ImageValidated, events::v1::ImageRejected> ToImageEvent(const ValidationReport& report);

// PairProposed.similarity (the composite) and PairProposed.scores (ScoreMap).
void SetPairScores(const PairScore& score, events::v1::PairProposed& proposed);

}  // namespace furrsight::workers::vision
