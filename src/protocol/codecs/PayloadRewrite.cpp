#include "protocol/codecs/PayloadRewrite.hpp"

#include "PictureId.hpp"

namespace sfu::codecs {

bool PayloadRewrite::apply(uint8_t* payload, size_t len) const {
    bool ok = true;
    if (hasPictureId) {
        ok = detail::writePictureId(payload, len, pictureIdOffset, pictureIdIs15Bit, pictureId);
    }
    if (hasTl0PicIdx) {
        ok = detail::writeTl0PicIdx(payload, len, tl0PicIdxOffset, tl0PicIdx) && ok;
    }
    return ok;
}

} // namespace sfu::codecs
