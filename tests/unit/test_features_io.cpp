#include <gtest/gtest.h>

#include "prh/core/error.hpp"
#include "prh/store/features.hpp"

using namespace prh::store;

TEST(FeaturesIO, ParsesDatasetRefs) {
  auto r = parse_dataset_ref("a.h5:/feats");
  EXPECT_EQ(r.file, "a.h5");
  EXPECT_EQ(r.dataset, "/feats");
  r = parse_dataset_ref("/data/run:3/b.h5:/group/x");  // a colon inside the path
  EXPECT_EQ(r.file, "/data/run:3/b.h5");
  EXPECT_EQ(r.dataset, "/group/x");
  EXPECT_THROW(parse_dataset_ref("a.h5"), prh::InputError);
  EXPECT_THROW(parse_dataset_ref("a.h5:feats"), prh::InputError);
  EXPECT_THROW(parse_dataset_ref(":/feats"), prh::InputError);
}

TEST(FeaturesIO, MissingFileIsAnInputError) {
  try {
    read_features(parse_dataset_ref("/nonexistent/x.h5:/f"));
    FAIL();
  } catch (const prh::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/x.h5: no such file"), std::string::npos);
  }
}
