// Tasks through the item processor: several rows per item with their own inputs and typed arrays, the
// registry, what counts as an item's model failure (and what is a bug that ends the job), items read batch by
// batch so that a stop request is seen early.
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <torch/csrc/jit/runtime/jit_exception.h>

#include <cmath>
#include <new>
#include <stdexcept>

#include "io/error.hpp"
#include "tests/unit/test_support.hpp"
#include "workers/item_processor.hpp"
#include "workers/tasks/task.hpp"

namespace pixab {
namespace {

// A list dataset of `count` 6 x 6 images, each a different flat colour, with annotation() counted: the
// processor asks for it once per item it reads.
class CountingList : public Dataset {
 public:
  CountingList(const test::TempDir& dir, int count) : Dataset(config()) {
    for (int i = 0; i < count; ++i) {
      const std::string name = "img" + std::to_string(i) + ".png";
      cv::imwrite(dir.file(name), cv::Mat(6, 6, CV_8UC3, cv::Scalar(20 * i, 200 - 30 * i, 40 + 10 * i)));
      items_.push_back({name, dir.file(name), ""});
    }
  }
  const std::vector<DatasetItem>& items() const override { return items_; }
  ItemAnnotation annotation(const DatasetItem&) const override {
    ++annotations_read;
    return {};
  }
  mutable int annotations_read = 0;

 private:
  static DatasetConfig config() {
    DatasetConfig c;
    c.kind = "list";
    return c;
  }
  std::vector<DatasetItem> items_;
};

Model gap_linear_model(const std::string& name) {
  torch::manual_seed(3);
  return test::load_scripted_model(name, test::kGapLinearSource,
                                   {{"weight", torch::randn({2, 3})}, {"bias", torch::zeros({2})}},
                                   test::simple_meta_json(6, 6, 3, 2));
}

// Two rows per item: row 0 the image as it is, row 1 the image with its right half zeroed; each row records
// whether it is zeroed and how many zeros the first pixel row of its red channel has, in an int32 array.
class TwoRowTask : public Task {
 public:
  std::string name() const override { return "two_rows"; }
  std::vector<TaskRow> rows_of(const DatasetItem& item) const override {
    return {TaskRow{item, item.id + "#t0", 0}, TaskRow{item, item.id + "#t1", 1}};
  }
  void declare_arrays(const std::vector<std::string>&, ArraySpecs& specs) const override {
    specs.add({"rows/index_and_zeroed", DType::kInt32, {2}, -1});
  }
  TaskBatch prepare_batch(const std::vector<const TaskRow*>& rows, torch::Tensor inputs) const override {
    for (std::size_t b = 0; b < rows.size(); ++b) {
      if (rows[b]->index == 1) inputs[static_cast<int64_t>(b)].narrow(2, 3, 3).zero_();
    }
    last_rows_ = rows.size();
    TaskBatch batch;
    batch.inputs = inputs;
    return batch;
  }
  BatchArrays batch_arrays(const std::vector<std::unique_ptr<CamMethod>>&, CamBatch& batch,
                           const BatchResults&) const override {
    const auto zeroed = (batch.inputs().narrow(2, 0, 1).narrow(1, 0, 1) == 0).sum({1, 2, 3});
    const auto index = zeroed > 0;
    return {{"rows/index_and_zeroed", torch::stack({index.to(torch::kInt), zeroed.to(torch::kInt)}, 1)}};
  }
  mutable std::size_t last_rows_ = 0;
};

TEST(Tasks, SeveralRowsPerItemEachWithItsOwnInputAndTypedArrays) {
  test::TempDir dir("two-row-task");
  const CountingList dataset(dir, 3);
  const Model model = gap_linear_model("two-row-model");
  ProcessOptions options;
  options.methods = {"grad_cam"};
  options.batch_size = 4;  // batches cut across items: rows 0-3, then 4-5
  const ItemProcessor processor(model, dataset, options, std::make_unique<TwoRowTask>());
  const ProcessedItems out = processor.process(dataset.items());

  EXPECT_EQ(dataset.annotations_read, 3);  // each item read once for its two rows
  ASSERT_EQ(out.records.size(), 6u);
  EXPECT_EQ(out.records[0].id, "img0.png#t0");
  EXPECT_EQ(out.records[5].id, "img2.png#t1");
  EXPECT_EQ(out.records[3].source, dataset.items()[1].image_path);
  const auto& extra = out.arrays.at("rows/index_and_zeroed");
  EXPECT_EQ(extra.dtype(), DType::kInt32);
  EXPECT_EQ(extra.shape, (std::vector<std::uint64_t>{6, 2}));
  // Row 1 of each item has columns 3..5 zeroed: 3 zeros in the first pixel row of the red channel, which the
  // images (red 40, 50, 60) have nowhere else; row 0 has none.
  EXPECT_EQ(extra.as<std::int32_t>(), (std::vector<std::int32_t>{0, 0, 1, 3, 0, 0, 1, 3, 0, 0, 1, 3}));

  // Row 0 is the natural task's row of the same item; row 1 its own input's.
  ProcessOptions natural = options;
  const ProcessedItems plain = ItemProcessor(model, dataset, natural).process(dataset.items());
  const auto& two = out.arrays.at("maps/grad_cam").floats();
  const auto& one = plain.arrays.at("maps/grad_cam").floats();
  for (std::size_t item = 0; item < 3; ++item) {
    for (std::size_t i = 0; i < 36; ++i) ASSERT_EQ(two[(2 * item) * 36 + i], one[item * 36 + i]) << item;
    EXPECT_EQ(out.records[2 * item].top1, plain.records[item].top1);
  }
}

TEST(Tasks, TheRegistryNamesEveryTaskAndRefusesOthers) {
  ASSERT_EQ(implemented_tasks().size(), 4u);
  EXPECT_EQ(implemented_tasks()[0].name, "natural");
  EXPECT_TRUE(implemented_tasks()[0].every_metric_by_default);
  EXPECT_EQ(find_task("sanity")->report, TaskReport::kSanity);
  EXPECT_EQ(find_task("dap1")->report, TaskReport::kAdversarial);
  EXPECT_TRUE(find_task("dap1")->needs_dataset);
  EXPECT_EQ(find_task("dap2")->report, TaskReport::kAdversarial);
  EXPECT_FALSE(find_task("dap2")->needs_dataset);
  EXPECT_EQ(find_task("dap9"), nullptr);
  const Model model = gap_linear_model("registry-model");
  EXPECT_EQ(make_task("natural", model, {})->name(), "natural");
  const auto sanity = make_task("sanity", model, {});
  EXPECT_EQ(sanity->attributes().at("sanity_stages"), "(root)");  // the model's parameters sit on its root
  try {
    make_task("dap9", model, {});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "task 'dap9' is not supported (supported: natural, sanity, dap1, dap2)");
  }
}

TEST(ItemModelFailure, TheModelsFailuresAreTheItemsAndEverythingElseIsNot) {
  EXPECT_TRUE(is_item_model_failure(c10::Error("shape mismatch", "")));
  EXPECT_TRUE(is_item_model_failure(std::bad_alloc()));
  EXPECT_TRUE(is_item_model_failure(torch::jit::JITException("raised in TorchScript")));
  EXPECT_TRUE(is_item_model_failure(std::runtime_error("The following operation failed in the TorchScript "
                                                       "interpreter.")));
  EXPECT_FALSE(is_item_model_failure(c10::Error("CUDA error: an illegal memory access was encountered", "")));
  EXPECT_FALSE(is_item_model_failure(std::logic_error("array 'maps/m': 1 rows of [2, 2] declared")));
  EXPECT_FALSE(is_item_model_failure(IoError("cannot write")));
  EXPECT_FALSE(is_item_model_failure(ConfigError("bad")));
  EXPECT_FALSE(is_item_model_failure(std::out_of_range("map::at")));
}

// A model whose features fail inside TorchScript on a batch holding an image brighter than the threshold: an operator refuses
// the view (3 * 6 * 6 values are no multiple of 7), as a real model's kernel refuses an input it cannot take.
constexpr const char* kRaisingSource = R"(
def features(self, x):
    if bool(torch.amax(torch.mean(x, [1, 2, 3])) > 0.9):
        return x.view(-1, 7)
    return x

def head(self, a):
    return torch.matmul(torch.mean(a, [2, 3]), self.weight.t()) + self.bias

def forward(self, x):
    return self.head(self.features(x))
)";

// A task whose own array has the wrong row shape: a layout bug.
class WrongShapeTask : public Task {
 public:
  std::string name() const override { return "wrong_shape"; }
  void declare_arrays(const std::vector<std::string>&, ArraySpecs& specs) const override {
    specs.add({"extra/value", DType::kFloat32, {3}});
  }
  BatchArrays batch_arrays(const std::vector<std::unique_ptr<CamMethod>>&, CamBatch& batch,
                           const BatchResults&) const override {
    return {{"extra/value", torch::zeros({batch.inputs().size(0), 4})}};
  }
};

TEST(ItemModelFailure, ARaisingModelFailsOnlyItsItemAndABugEndsTheRun) {
  test::TempDir dir("raising-model");
  const CountingList dataset(dir, 3);
  // Inputs are the pixels in [0,1] (mean 0, std 1): the flat colours have means near 0.3; a white image
  // (mean 1) makes the features raise.
  cv::imwrite(dataset.items()[1].image_path, cv::Mat(6, 6, CV_8UC3, cv::Scalar(255, 255, 255)));
  const Model model = test::load_scripted_model(
      "raising-model", kRaisingSource, {{"weight", torch::ones({2, 3})}, {"bias", torch::zeros({2})}},
      test::simple_meta_json(6, 6, 3, 2));
  ProcessOptions options;
  options.methods = {"activation_cam"};
  options.batch_size = 3;  // one batch: it fails, then each item alone
  const ProcessedItems out = ItemProcessor(model, dataset, options).process(dataset.items());
  EXPECT_EQ(out.records[0].status, ItemStatus::kOk) << out.records[0].message;
  EXPECT_EQ(out.records[1].status, ItemStatus::kModelError);
  EXPECT_NE(out.records[1].message.find("model error: "), std::string::npos) << out.records[1].message;
  EXPECT_EQ(out.records[2].status, ItemStatus::kOk) << out.records[2].message;
  const auto& maps = out.arrays.at("maps/activation_cam").floats();
  EXPECT_TRUE(std::isfinite(maps[0]) && std::isnan(maps[36]) && std::isfinite(maps[72]));

  const ItemProcessor buggy(model, dataset, options, std::make_unique<WrongShapeTask>());
  EXPECT_THROW(buggy.process(dataset.items()), std::logic_error);
}

TEST(ItemProcessor, AFixedTargetIsExplainedOnEveryItem) {
  test::TempDir dir("fixed-target");
  const CountingList dataset(dir, 3);
  const Model model = gap_linear_model("fixed-target-model");
  ProcessOptions options;
  options.methods = {"grad_cam"};
  options.target = "1";
  const ProcessedItems out = ItemProcessor(model, dataset, options).process(dataset.items());
  for (const ItemRecord& record : out.records) {
    EXPECT_EQ(record.status, ItemStatus::kOk) << record.message;
    EXPECT_EQ(record.target, 1);
  }
  options.target = "2";  // the model has classes 0 and 1 only
  try {
    ItemProcessor(model, dataset, options);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("target '2': not a class of model"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("target is predicted, label or one class"), std::string::npos) << e.what();
  }
}

TEST(ItemProcessor, ItemsAreReadBatchByBatchSoThatAStopIsSeenEarly) {
  test::TempDir dir("stop-early");
  const CountingList dataset(dir, 5);
  const Model model = gap_linear_model("stop-early-model");
  ProcessOptions options;
  options.methods = {"activation_cam"};
  options.batch_size = 2;
  int asked = 0;
  const ProcessedItems out =
      ItemProcessor(model, dataset, options).process(dataset.items(), [&] { return ++asked < 2; });
  EXPECT_FALSE(out.complete);
  EXPECT_EQ(asked, 2);
  EXPECT_EQ(dataset.annotations_read, 2);  // the first batch's items only; before, all five were read first
}

TEST(SanityTask, OneRandomisedCopyServesEveryBatchAlike) {
  torch::manual_seed(5);
  const Model model = gap_linear_model("sanity-batches");
  test::TempDir dir("sanity-batches");
  const CountingList dataset(dir, 4);
  ProcessOptions options;
  options.methods = {"grad_cam", "activation_cam"};
  options.task = "sanity";
  options.batch_size = 1;
  const ProcessedItems one_by_one = ItemProcessor(model, dataset, options).process(dataset.items());
  options.batch_size = 4;
  const ProcessedItems together = ItemProcessor(model, dataset, options).process(dataset.items());
  for (const auto& [path, array] : together.arrays) {
    const auto& a = array.floats();
    const auto& b = one_by_one.arrays.at(path).floats();
    ASSERT_EQ(a.size(), b.size()) << path;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (std::isnan(a[i])) {
        EXPECT_TRUE(std::isnan(b[i])) << path << " " << i;
      } else {
        EXPECT_FLOAT_EQ(a[i], b[i]) << path << " " << i;
      }
    }
  }
  EXPECT_TRUE(together.arrays.count("sanity/grad_cam/maps"));
}

}  // namespace
}  // namespace pixab
