#include "lakepipe/common/yaml_to_json.h"

#include <string>

#include <gtest/gtest.h>

namespace lakepipe::common {
namespace {

std::string Convert(const std::string& yaml, const YamlToJsonLimits& limits = {}) {
  YamlReader reader("p.yaml");
  auto json = YamlToJson(reader, YAML::Load(yaml), "config", limits);
  return json.ok() ? json->dump() : json.status().message();
}

// Nine levels of ten aliases each: 10^9 strings once expanded, from 300 bytes of YAML.
std::string BillionLaughs() {
  std::string yaml = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 9; ++i) {
    std::string row = fmt::format("a{}: &a{} [", i, i);
    for (int j = 0; j < 10; ++j) row += fmt::format("{}*a{}", j ? ", " : "", i - 1);
    yaml += row + "]\n";
  }
  return yaml;
}

TEST(YamlToJsonTest, KeepsScalarTypesAndExpandsSmallAliases) {
  EXPECT_EQ(Convert("{n: 5, q: '5', b: true, s: x, l: &l [1, 2], m: *l, z: ~}"),
            R"({"b":true,"l":[1,2],"m":[1,2],"n":5,"q":"5","s":"x","z":null})");
}

TEST(YamlToJsonTest, AliasBombIsRefusedBeforeItGrows) {
  EXPECT_EQ(Convert(BillionLaughs()),
            "p.yaml:1: 'config' expands to more than 100000 values (YAML aliases repeat what "
            "they name); make it smaller or use a config file");
}

TEST(YamlToJsonTest, LongScalarsRepeatedByAliasesAreBoundedInBytes) {
  YamlToJsonLimits limits;
  limits.max_bytes = 1 << 20;
  const std::string big(400 << 10, 'x');
  EXPECT_EQ(Convert("{a: &a " + big + ", b: *a, c: *a}", limits),
            "p.yaml:1: 'config' expands to more than 1 MiB of text (YAML aliases repeat what "
            "they name); make it smaller or use a config file");
}

TEST(YamlToJsonTest, DeepNestingIsRefused) {
  std::string yaml(100, '[');
  yaml += std::string(100, ']');
  EXPECT_EQ(Convert(yaml), "p.yaml:1: 'config' nests deeper than 64 levels");
  EXPECT_EQ(Convert(std::string(64, '[') + std::string(64, ']')).substr(0, 4), "[[[[");
}

}  // namespace
}  // namespace lakepipe::common
