#pragma once
// The listener model without any network code: value types, both configuration surfaces, resolution,
// the §6 output and conversion. Needs toml++ and nlohmann-json; never Asio or a TLS library.

#include "berth/version.hpp"

#include "berth/model/diagnostic.hpp"
#include "berth/model/duration.hpp"
#include "berth/model/field.hpp"
#include "berth/model/ip_address.hpp"
#include "berth/model/ip_mask.hpp"
#include "berth/model/parsed.hpp"
#include "berth/model/protocol.hpp"
#include "berth/model/resolve.hpp"
#include "berth/model/resolved_listener.hpp"
#include "berth/model/socket_addr.hpp"
#include "berth/model/source.hpp"
#include "berth/model/suggest.hpp"
#include "berth/model/tls.hpp"

#include "berth/config/convert.hpp"
#include "berth/config/json_reader.hpp"
#include "berth/config/load.hpp"
#include "berth/config/resolved_json.hpp"
#include "berth/config/toml_reader.hpp"
