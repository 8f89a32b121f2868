// Under mpirun at 1 to 3 ranks: rank 0 alone lists the dataset, and every rank gets the manifest rank 0 built
// (same bytes, same hash as a manifest built here by listing) and a dataset whose annotations are rank 0's; a
// refusal on rank 0 reaches every rank as JobRefused. Arguments: --data <VOC demo set> --work <empty folder>.
#include <gtest/gtest.h>
#include <mpi.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "io/dataset.hpp"
#include "io/file_contents.hpp"
#include "pipeline/manifest_share.hpp"
#include "pipeline/mpi_util.hpp"
#include "pipeline/run.hpp"

namespace pixab {
namespace {

std::string g_data, g_work;

// Every item's annotation (or its error) as text: what the workers would get on this rank.
std::string annotations_text(const Dataset& dataset, const Manifest& manifest) {
  std::ostringstream out;
  for (const DatasetItem& item : manifest.items) {
    out << item.id << ":";
    try {
      const ItemAnnotation annotation = dataset.annotation(item);
      out << annotation.label;
      for (const AnnotatedObject& object : annotation.objects) {
        out << " " << object.class_name << " " << object.box.x1 << "," << object.box.y1 << ","
            << object.box.x2 << "," << object.box.y2 << (object.difficult ? " difficult" : "");
      }
    } catch (const std::exception& e) {
      out << " error " << e.what();
    }
    out << "\n";
  }
  return out.str();
}

// The manifest and the annotations of rank 0, as every rank has them, equal on every rank.
void expect_same_as_rank0(const SharedDataset& shared) {
  const std::string manifest = serialise_manifest(shared.manifest);
  EXPECT_EQ(manifest, mpi::broadcast(manifest)) << "rank " << mpi::rank();
  const std::string annotations = annotations_text(*shared.dataset, shared.manifest);
  EXPECT_EQ(annotations, mpi::broadcast(annotations)) << "rank " << mpi::rank();
}

TEST(ManifestShare, EveryRankGetsRank0sVocManifest) {
  DatasetConfig config;
  config.kind = "voc";
  config.root = g_data;
  config.split = "test";
  config.sample = 50;
  config.seed = 3;
  const SharedDataset shared = share_dataset(config, 37, 5);
  ASSERT_EQ(shared.manifest.items.size(), 37u);
  EXPECT_EQ(shared.manifest.chunk_size, 5u);
  // As every rank built it before: listing here gives the same order and hash.
  const Manifest listed_here = build_manifest(*open_dataset(config), config, 37, 5);
  EXPECT_EQ(serialise_manifest(shared.manifest), serialise_manifest(listed_here));
  expect_same_as_rank0(shared);
}

TEST(ManifestShare, EveryRankGetsRank0sCocoAnnotations) {
  const std::string root = g_work + "/coco";
  if (mpi::rank() == 0) {  // a folder every rank sees: rank 0 writes the file, the others never read it
    std::filesystem::create_directories(root + "/annotations");
    std::ofstream(root + "/annotations/instances_val2014.json") << R"({
      "images": [{"id": 1, "file_name": "b.jpg"}, {"id": 2, "file_name": "a.jpg"}, {"id": 3, "file_name": "c.jpg"}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 2, 3, 4], "iscrowd": 0},
                      {"id": 2, "image_id": 3, "category_id": 9, "bbox": [1, 2, 3, 4], "iscrowd": 0}],
      "categories": [{"id": 3, "name": "cat"}]})";
  }
  MPI_Barrier(MPI_COMM_WORLD);
  DatasetConfig config;
  config.kind = "coco";
  config.root = root;
  config.split = "val2014";
  const SharedDataset shared = share_dataset(config, 0, 2);
  ASSERT_EQ(shared.manifest.items.size(), 3u);
  EXPECT_EQ(shared.manifest.items[0].id, "val2014/a.jpg");
  expect_same_as_rank0(shared);
}

TEST(ManifestShare, ARefusalOnRank0ReachesEveryRank) {
  DatasetConfig config;
  config.kind = "voc";
  config.root = g_work + "/no-such-dataset";
  try {
    share_dataset(config, 0, 5);
    ADD_FAILURE() << "no refusal on rank " << mpi::rank();
  } catch (const JobRefused& e) {
    if (mpi::rank() == 0) {
      EXPECT_NE(std::string(e.what()).find("no-such-dataset"), std::string::npos) << e.what();
    } else {
      EXPECT_STREQ(e.what(), "") << "only rank 0 reports it";
    }
  }
}

}  // namespace
}  // namespace pixab

int main(int argc, char** argv) {
  int provided = 0;
  MPI_Init_thread(&argc, &argv, pixab::mpi::kRequiredThreadLevel, &provided);
  testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i + 1 < argc; ++i) {  // after InitGoogleTest took its own flags out
    if (std::string(argv[i]) == "--data") pixab::g_data = argv[i + 1];
    if (std::string(argv[i]) == "--work") pixab::g_work = argv[i + 1];
  }
  const int failed = RUN_ALL_TESTS();
  // A failure on any rank fails the test.
  const bool any_failed = pixab::mpi::any(failed != 0);
  MPI_Finalize();
  return any_failed ? 1 : 0;
}
