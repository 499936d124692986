// Everything of the RTCP module in one include.
#pragma once

#include "protocol/rtcp/ByeApp.hpp"
#include "protocol/rtcp/Compound.hpp"
#include "protocol/rtcp/Feedback.hpp"
#include "protocol/rtcp/Items.hpp"
#include "protocol/rtcp/Packet.hpp"
#include "protocol/rtcp/Reports.hpp"
#include "protocol/rtcp/Sdes.hpp"
#include "protocol/rtcp/TransportCc.hpp"
#include "protocol/rtcp/Xr.hpp"
