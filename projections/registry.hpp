// Every projection FurrSight runs, by name.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "projections/projection.hpp"

namespace furrsight::projections {

const std::vector<std::unique_ptr<Projection>>& AllProjections();
const Projection* FindProjection(std::string_view name);

}  // namespace furrsight::projections
