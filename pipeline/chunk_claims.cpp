// The claim counters: one MPI window of three int64 on rank 0, accessed in a passive-target epoch that lasts
// the whole run.
#include "pipeline/chunk_claims.hpp"

namespace pixab {

namespace {

enum Slot : int { kNext = 0, kStop = 1, kDone = 2, kSlots = 3 };

}  // namespace

ChunkClaims::ChunkClaims(std::int64_t pending, MPI_Comm comm) : comm_(comm), pending_(pending) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const MPI_Aint bytes = rank == 0 ? static_cast<MPI_Aint>(kSlots * sizeof(std::int64_t)) : 0;
  MPI_Win_allocate(bytes, sizeof(std::int64_t), MPI_INFO_NULL, comm, &counters_, &window_);
  if (rank == 0) {
    for (int i = 0; i < kSlots; ++i) counters_[i] = 0;
  }
  MPI_Barrier(comm);  // the counters are zero before anyone claims
  MPI_Win_lock_all(MPI_MODE_NOCHECK, window_);
}

void ChunkClaims::close() {
  if (window_ == MPI_WIN_NULL) return;
  MPI_Win_unlock_all(window_);
  MPI_Win_free(&window_);
}

std::int64_t ChunkClaims::fetch_and_op(std::int64_t value, int slot, MPI_Op op) {
  std::int64_t previous = 0;
  MPI_Fetch_and_op(&value, &previous, MPI_INT64_T, 0, slot, op, window_);
  MPI_Win_flush(0, window_);
  return previous;
}

std::int64_t ChunkClaims::claim() {
  if (stop_requested()) return -1;
  const std::int64_t position = fetch_and_op(1, kNext, MPI_SUM);
  return position < pending_ ? position : -1;
}

void ChunkClaims::request_stop() { fetch_and_op(1, kStop, MPI_REPLACE); }

bool ChunkClaims::stop_requested() { return fetch_and_op(0, kStop, MPI_NO_OP) != 0; }

void ChunkClaims::add_done_items(std::int64_t items) { fetch_and_op(items, kDone, MPI_SUM); }

std::int64_t ChunkClaims::done_items() { return fetch_and_op(0, kDone, MPI_NO_OP); }

}  // namespace pixab
