# Every third-party dependency, found once, as imported targets.
# scripts/install-deps.sh installs the Debian packages that provide them.

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED COMPONENTS json)
find_package(fmt REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(CURL REQUIRED)
find_package(Protobuf REQUIRED)

pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
pkg_check_modules(PQ REQUIRED IMPORTED_TARGET libpq)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(GUMBO REQUIRED IMPORTED_TARGET gumbo)

# OpenCV's headers flood C++23 builds with warnings: include them as SYSTEM.
find_package(OpenCV REQUIRED COMPONENTS core imgproc imgcodecs features2d)
add_library(furrsight_opencv INTERFACE)
target_include_directories(furrsight_opencv SYSTEM INTERFACE ${OpenCV_INCLUDE_DIRS})
target_link_libraries(furrsight_opencv INTERFACE ${OpenCV_LIBS})

if(FURRSIGHT_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(FURRSIGHT_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
