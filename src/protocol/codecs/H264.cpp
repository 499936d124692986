#include "protocol/codecs/H264.hpp"

#include "BitReader.hpp"
#include "utils/Bytes.hpp"

#include <algorithm>

namespace sfu::codecs::h264 {

namespace {

// Profiles whose SPS carries chroma format, bit depths and scaling lists
// (H.264 section 7.3.2.1.1).
bool hasChromaInfo(uint8_t profileIdc) {
    switch (profileIdc) {
    case 100:
    case 110:
    case 122:
    case 244:
    case 44:
    case 83:
    case 86:
    case 118:
    case 128:
    case 138:
    case 139:
    case 134:
    case 135:
        return true;
    default:
        return false;
    }
}

// scaling_list(): only read past, the values do not matter here.
void skipScalingList(detail::BitReader& r, unsigned size) {
    int32_t last = 8;
    int32_t next = 8;
    for (unsigned j = 0; j < size && !r.failed(); ++j) {
        if (next != 0) {
            const int32_t delta = r.se();
            next = (last + delta % 256 + 512) % 256;
        }
        last = next == 0 ? last : next;
    }
}

// `body` starts right after the NAL header octet.
std::optional<SpsInfo> parseSpsBody(const uint8_t* body, size_t len) {
    detail::BitReader r(body, len, true);
    SpsInfo s;
    s.profileIdc = static_cast<uint8_t>(r.bits(8));
    r.bits(8); // constraint_set flags and reserved bits
    s.levelIdc = static_cast<uint8_t>(r.bits(8));
    const uint32_t spsId = r.ue();
    if (r.failed() || spsId > 31) {
        return std::nullopt;
    }
    s.spsId = static_cast<uint8_t>(spsId);

    uint32_t chromaFormatIdc = 1;
    bool separateColourPlanes = false;
    if (hasChromaInfo(s.profileIdc)) {
        chromaFormatIdc = r.ue();
        if (chromaFormatIdc > 3) {
            return std::nullopt;
        }
        if (chromaFormatIdc == 3) {
            separateColourPlanes = r.bit() != 0;
        }
        r.ue();             // bit_depth_luma_minus8
        r.ue();             // bit_depth_chroma_minus8
        r.bit();            // qpprime_y_zero_transform_bypass_flag
        if (r.bit() != 0) { // seq_scaling_matrix_present_flag
            const unsigned lists = chromaFormatIdc != 3 ? 8 : 12;
            for (unsigned i = 0; i < lists && !r.failed(); ++i) {
                if (r.bit() != 0) {
                    skipScalingList(r, i < 6 ? 16 : 64);
                }
            }
        }
    }

    r.ue(); // log2_max_frame_num_minus4
    const uint32_t pocType = r.ue();
    if (pocType == 0) {
        r.ue(); // log2_max_pic_order_cnt_lsb_minus4
    } else if (pocType == 1) {
        r.bit(); // delta_pic_order_always_zero_flag
        r.se();  // offset_for_non_ref_pic
        r.se();  // offset_for_top_to_bottom_field
        const uint32_t cycle = r.ue();
        if (cycle > 255) {
            return std::nullopt;
        }
        for (uint32_t i = 0; i < cycle && !r.failed(); ++i) {
            r.se();
        }
    } else if (pocType != 2) {
        return std::nullopt;
    }
    r.ue();  // max_num_ref_frames
    r.bit(); // gaps_in_frame_num_value_allowed_flag
    const uint64_t widthMbs = uint64_t{r.ue()} + 1;
    const uint64_t heightMapUnits = uint64_t{r.ue()} + 1;
    const bool frameMbsOnly = r.bit() != 0;
    if (!frameMbsOnly) {
        r.bit(); // mb_adaptive_frame_field_flag
    }
    r.bit(); // direct_8x8_inference_flag
    uint64_t cropLeft = 0;
    uint64_t cropRight = 0;
    uint64_t cropTop = 0;
    uint64_t cropBottom = 0;
    if (r.bit() != 0) { // frame_cropping_flag
        cropLeft = r.ue();
        cropRight = r.ue();
        cropTop = r.ue();
        cropBottom = r.ue();
    }
    if (r.failed()) {
        return std::nullopt;
    }

    // Crop offsets count in chroma sample units (section 7.4.2.1.1).
    const uint32_t chromaArrayType = separateColourPlanes ? 0 : chromaFormatIdc;
    const uint64_t subWidthC = (chromaArrayType == 1 || chromaArrayType == 2) ? 2 : 1;
    const uint64_t subHeightC = chromaArrayType == 1 ? 2 : 1;
    const uint64_t fieldFactor = frameMbsOnly ? 1 : 2;
    const uint64_t cropUnitX = chromaArrayType == 0 ? 1 : subWidthC;
    const uint64_t cropUnitY = (chromaArrayType == 0 ? 1 : subHeightC) * fieldFactor;

    const uint64_t fullWidth = widthMbs * 16;
    const uint64_t fullHeight = heightMapUnits * 16 * fieldFactor;
    const uint64_t cropX = cropUnitX * (cropLeft + cropRight);
    const uint64_t cropY = cropUnitY * (cropTop + cropBottom);
    if (cropX >= fullWidth || cropY >= fullHeight || fullWidth - cropX > 0xFFFF ||
        fullHeight - cropY > 0xFFFF) {
        return std::nullopt;
    }
    s.width = static_cast<uint16_t>(fullWidth - cropX);
    s.height = static_cast<uint16_t>(fullHeight - cropY);
    return s;
}

// Types a STAP-A or FU may carry: the VCL and non-VCL units of table 7-1,
// never another aggregate or fragment, nor the unspecified types.
bool isPlainNalType(uint8_t type) {
    return type >= 1 && type <= 23;
}

void noteNal(PayloadDescriptor& d, uint8_t type, const uint8_t* body, size_t bodyLen) {
    switch (type) {
    case kNalIdr:
        d.hasIdr = true;
        break;
    case kNalSps:
        d.hasSps = true;
        if (!d.hasFrameSize) {
            if (auto sps = parseSpsBody(body, bodyLen)) {
                d.hasFrameSize = true;
                d.width = sps->width;
                d.height = sps->height;
            }
        }
        break;
    case kNalPps:
        d.hasPps = true;
        break;
    default:
        break;
    }
}

std::optional<PayloadDescriptor> parseImpl(const uint8_t* payload, size_t len,
                                           const FrameMarking* fm) {
    if (payload == nullptr || len < 1) {
        return std::nullopt;
    }
    PayloadDescriptor d;
    const uint8_t type = payload[0] & 0x1F;
    d.nri = (payload[0] >> 5) & 0x03;

    if (isPlainNalType(type)) {
        d.packetization = Packetization::SingleNal;
        d.nalType = type;
        d.nalCount = 1;
        noteNal(d, type, payload + 1, len - 1);
    } else if (type == kStapA) {
        d.packetization = Packetization::StapA;
        size_t off = 1;
        while (off < len) {
            if (len - off < 2) {
                return std::nullopt;
            }
            const uint16_t size = bytes::get16(payload + off);
            off += 2;
            if (size == 0 || size > len - off) {
                return std::nullopt;
            }
            const uint8_t t = payload[off] & 0x1F;
            if (!isPlainNalType(t) || d.nalCount == UINT16_MAX) {
                return std::nullopt;
            }
            if (d.nalCount++ == 0) {
                d.nalType = t;
            }
            noteNal(d, t, payload + off + 1, size - 1u);
            off += size;
        }
        if (d.nalCount == 0) {
            return std::nullopt;
        }
    } else if (type == kFuA || type == kFuB) {
        // FU indicator, FU header, and for FU-B a decoding order number.
        const size_t headerLen = type == kFuA ? 2 : 4;
        if (len <= headerLen) {
            return std::nullopt;
        }
        d.packetization = type == kFuA ? Packetization::FuA : Packetization::FuB;
        const uint8_t fu = payload[1];
        d.fuStart = (fu & 0x80) != 0;
        d.fuEnd = (fu & 0x40) != 0;
        d.nalType = fu & 0x1F;
        d.nalCount = 1;
        // One fragment that is both first and last is not a fragment.
        if ((d.fuStart && d.fuEnd) || !isPlainNalType(d.nalType)) {
            return std::nullopt;
        }
        if (d.fuStart) {
            noteNal(d, d.nalType, payload + headerLen, len - headerLen);
        }
    } else {
        return std::nullopt;
    }

    d.isKeyFrame = d.hasIdr || d.hasSps;
    if (fm != nullptr) {
        d.hasFrameMarking = true;
        d.frameMarking = *fm;
        d.layers = layerInfo(*fm);
        d.isKeyFrame = d.isKeyFrame || d.layers.isKeyFrame;
    }
    return d;
}

} // namespace

LayerInfo layerInfo(const FrameMarking& fm) {
    LayerInfo l;
    l.temporalLayer = fm.temporalId & 0x07;
    if (fm.hasLayerId) {
        l.spatialLayer = (fm.layerId >> 4) & 0x07;
        l.qualityLayer = fm.layerId & 0x0F;
    }
    if (fm.hasTl0PicIdx) {
        l.hasTl0PicIdx = true;
        l.tl0PicIdx = fm.tl0PicIdx;
    }
    l.isStartOfFrame = fm.startOfFrame;
    l.isEndOfFrame = fm.endOfFrame;
    l.isKeyFrame = fm.startOfFrame && fm.independent;
    l.switchingUpPoint = fm.baseLayerSync || fm.independent;
    l.discardable = fm.discardable;
    return l;
}

std::optional<SpsInfo> parseSps(const uint8_t* nal, size_t len) {
    if (nal == nullptr || len < 2 || (nal[0] & 0x1F) != kNalSps) {
        return std::nullopt;
    }
    return parseSpsBody(nal + 1, len - 1);
}

std::optional<PayloadDescriptor> PayloadDescriptor::parse(const uint8_t* payload, size_t len) {
    return parseImpl(payload, len, nullptr);
}

std::optional<PayloadDescriptor> PayloadDescriptor::parse(const uint8_t* payload, size_t len,
                                                          const FrameMarking& frameMarking) {
    return parseImpl(payload, len, &frameMarking);
}

void EncodingContext::setTargetTemporalLayer(uint8_t layer) {
    targetTemporal_ = std::min(layer, kMaxTemporalLayer);
}

bool EncodingContext::process(const PayloadDescriptor& desc) {
    if (!desc.hasFrameMarking) {
        return true;
    }
    const auto tid = static_cast<int8_t>(desc.layers.temporalLayer);
    const auto target = static_cast<int8_t>(targetTemporal_);

    // Decisions are taken where frames start, so all packets of a frame
    // share one.
    if (desc.layers.isStartOfFrame) {
        currentTemporal_ = std::min(currentTemporal_, target);
        freeUpTo_ = std::min(freeUpTo_, target);
        if (desc.layers.isKeyFrame && tid == 0) {
            freeUpTo_ = target;
        }
        if (tid > std::max<int8_t>(currentTemporal_, 0) && tid <= target &&
            (desc.layers.switchingUpPoint || tid <= freeUpTo_)) {
            currentTemporal_ = tid;
        }
    }
    if (tid > std::max<int8_t>(currentTemporal_, 0)) {
        return false;
    }
    currentTemporal_ = std::max(currentTemporal_, tid);
    return true;
}

} // namespace sfu::codecs::h264
