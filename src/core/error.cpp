#include "prh/core/error.hpp"
