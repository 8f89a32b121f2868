// `pixab report`: tables from results files.
#pragma once

#include <ostream>
#include <string>

namespace pixab {

// A first summary as Markdown: items ok / failed by status, and per-method map statistics over the ok items.
void print_report(const std::string& results_path, std::ostream& out);

}  // namespace pixab
