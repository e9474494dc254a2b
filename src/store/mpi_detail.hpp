#pragma once
// Internal to the store layer: the one MPI call the parallel-HDF5 writers
// need beyond MPI-IO itself (rank 0 decides, every rank acts on it).

#include <mpi.h>

#include <string>

namespace prh::store::detail {

// Broadcasts a string from rank 0 of comm.
inline std::string bcast(const std::string& s, MPI_Comm comm) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  long long len = static_cast<long long>(s.size());
  MPI_Bcast(&len, 1, MPI_LONG_LONG, 0, comm);
  std::string out = rank == 0 ? s : std::string(static_cast<std::size_t>(len), '\0');
  if (len > 0) MPI_Bcast(out.data(), static_cast<int>(len), MPI_CHAR, 0, comm);
  return out;
}

}  // namespace prh::store::detail
