#pragma once
// Internal to the store: what the writers of the results file share
// (results_file.cpp: the file's setup, progress and serial reads;
// alignment_writer.cpp; calibration_writer.cpp; derived_writer.cpp) and the
// preparation cache beside it (prep_cache.cpp); the embedding store's writer
// (embedding_store.cpp) shares open_or_create_group.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "h5.hpp"
#include "prh/store/results_store.hpp"

namespace prh::store::detail {

// Creates (truncating) the file, and its folder; InputError naming it.
h5::Handle create_file(const std::string& path);
// Opens an existing file for writing; InputError naming it.
h5::Handle open_rw(const std::string& path);
h5::Handle open_or_create_group(h5::Id parent, const std::string& name);

// For prh status: the file opened read-only when it exists, HDF5 opens it and
// `check(file)` (reading it) says it is the one expected; an invalid handle
// otherwise, never an error (`exists` says whether there is a file at all).
h5::Handle open_if(const std::string& path, bool& exists, const std::function<bool(h5::Id)>& check);

// A 1-D uint8 dataset's values, with the units waiting in journals set;
// `n` zeros when it is absent or has another length.
std::vector<std::uint8_t> progress_flags(
    h5::Id f, const std::string& p, std::size_t n,
    const std::map<std::string, std::set<std::uint64_t>>& journal);

// Whether the calibration group of set `s` (open as `group`) was made for
// these settings and holds its null scores exactly: if not, prepare_calibration
// makes it anew (and prh status says so).
bool calibration_current(h5::Id group, const ResultsLayout& L, const CalibrationLayout& c,
                         const SetInfo& s);

}  // namespace prh::store::detail
