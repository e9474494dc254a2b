#include "prh/models/model.hpp"
