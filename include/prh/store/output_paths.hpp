#pragma once
// The files and folders a sweep writes must be distinct: prh never
// overwrites or truncates a file it did not make. A `results:` path whose
// preparation cache (RESULTS.prep.h5) is the store would have the cache
// remade over the embeddings.

#include <string>
#include <vector>

namespace prh::store {

// Problems (empty: none) among the store, its parts folder (STORE.parts),
// the results file, its preparation cache (RESULTS.prep.h5) and the
// journal folders of those two (FILE.journal): two that are the same file
// (compared as canonical paths, symlinks resolved, and by device and inode
// where both exist: hard links) or one inside a folder of another. Each
// problem names both paths and what each is.
std::vector<std::string> output_path_problems(const std::string& store, const std::string& results);

// InputError listing output_path_problems, if any.
void check_output_paths(const std::string& store, const std::string& results);

}  // namespace prh::store
