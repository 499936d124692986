// Everything of the RTCP module in one include.
#pragma once

#include "rtc/rtcp/ByeApp.hpp"
#include "rtc/rtcp/Compound.hpp"
#include "rtc/rtcp/Feedback.hpp"
#include "rtc/rtcp/Items.hpp"
#include "rtc/rtcp/Packet.hpp"
#include "rtc/rtcp/Reports.hpp"
#include "rtc/rtcp/Sdes.hpp"
#include "rtc/rtcp/TransportCc.hpp"
#include "rtc/rtcp/Xr.hpp"
