#pragma once
// RapidCheck's Catch2 integration on Catch2 2 and 3. <rapidcheck/catch.h> includes Catch2 2's header unless
// Catch2 3's macros were included first, so the order here matters.
#include "support/catch.hpp"

#include <rapidcheck/catch.h>
