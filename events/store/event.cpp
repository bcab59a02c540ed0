#include "events/store/event.hpp"

namespace furrsight::events {

std::string CategoryOf(const std::string& stream_id) {
  return stream_id.substr(0, stream_id.find('-'));
}

}  // namespace furrsight::events
