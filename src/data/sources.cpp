#include "prh/data/image.hpp"
