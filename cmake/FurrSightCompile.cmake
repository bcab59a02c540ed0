# Compile settings for FurrSight's own targets. Third-party headers come in as
# SYSTEM includes (imported targets are SYSTEM by default), so -Werror only
# judges our code.

add_library(furrsight_warnings INTERFACE)
target_compile_options(furrsight_warnings INTERFACE -Wall -Wextra -Werror -Wno-missing-field-initializers)

if(FURRSIGHT_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # g++ 12 with ASan reports -Wmaybe-uninitialized false positives inside
  # libstdc++'s <regex> (seen in events/base/config.cpp): not an error there.
  target_compile_options(furrsight_warnings INTERFACE -Wno-error=maybe-uninitialized)
endif()

# furrsight_target(NAME): apply the project's warnings to one of our targets.
function(furrsight_target name)
  target_link_libraries(${name} PRIVATE furrsight_warnings)
endfunction()
