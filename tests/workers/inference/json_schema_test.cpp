#include "workers/inference/json_schema.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace furrsight::workers::inference {
namespace {

namespace json = boost::json;

const json::value kSchema = json::parse(R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 5},
    "size": {"type": "integer", "minimum": 1, "maximum": 10},
    "score": {"type": "number", "minimum": 0, "maximum": 1},
    "kind": {"type": "string", "enum": ["a", "b"]},
    "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
    "maybe": {"type": ["string", "null"]}
  },
  "required": ["name", "size"],
  "additionalProperties": false
})");

std::string Violation(std::string_view text) {
  auto r = ValidateJson(json::parse(text), kSchema);
  return r ? "" : r.error().message;
}

TEST(JsonSchemaTest, AcceptsAValidDocument) {
  EXPECT_EQ(Violation(R"({"name":"rex","size":3,"score":0.5,"kind":"b","tags":["x"],"maybe":null})"), "");
  EXPECT_EQ(Violation(R"({"name":"rex","size":3.0,"maybe":"y"})"), "");
}

TEST(JsonSchemaTest, NamesEachKindOfViolationByPath) {
  EXPECT_EQ(Violation(R"({"size":3})"), "$: required property \"name\" is missing");
  EXPECT_EQ(Violation(R"({"name":"rex","size":3,"extra":1})"), "$: property \"extra\" is not allowed");
  EXPECT_EQ(Violation(R"({"name":3,"size":3})"), "$.name: expected string, got number");
  EXPECT_EQ(Violation(R"({"name":"rex","size":2.5})"), "$.size: expected integer, got number");
  EXPECT_EQ(Violation(R"({"name":"rex","size":11})"), "$.size: 11 is above the maximum 10");
  EXPECT_EQ(Violation(R"({"name":"rex","size":3,"score":-0.1})"), "$.score: -1E-1 is below the minimum 0");
  EXPECT_EQ(Violation(R"({"name":"rex","size":3,"kind":"c"})"), "$.kind: \"c\" is not one of [\"a\",\"b\"]");
  EXPECT_EQ(Violation(R"({"name":"","size":3})"), "$.name: string shorter than 1 characters");
  EXPECT_EQ(Violation(R"({"name":"toolong","size":3})"), "$.name: string longer than 5 characters");
  EXPECT_EQ(Violation(R"({"name":"rex","size":3,"tags":[]})"), "$.tags: 0 items, fewer than 1");
  EXPECT_EQ(Violation(R"({"name":"rex","size":3,"tags":["a",2]})"), "$.tags[1]: expected string, got number");
  EXPECT_EQ(Violation(R"({"name":"rex","size":3,"maybe":1})"), "$.maybe: expected string or null, got number");
  EXPECT_EQ(Violation(R"([1])"), "$: expected object, got array");
}

TEST(JsonSchemaTest, RefusesKeywordsOutsideTheSubset) {
  auto r = CheckSchema(json::parse(R"({"type":"string","pattern":"^a"})"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("pattern"), std::string::npos);
  EXPECT_FALSE(CheckSchema(json::parse(R"({"type":"object","additionalProperties":true})")));
  EXPECT_FALSE(ValidateJson(json::parse("1"), json::parse(R"({"type":"number","maximum":"x"})")));
}

}  // namespace
}  // namespace furrsight::workers::inference
