// Base of the iterators that walk RTCP wire data. They yield values decoded
// on the fly, so they are input iterators whose reference is a value; the
// derived iterator supplies operator*, prefix ++ and ==, and brings the
// postfix ++ back into scope with `using InputIterator::operator++;`.
#pragma once

#include <cstddef>
#include <iterator>

namespace sfu::rtcp {

template <typename Derived, typename Value>
class InputIterator {
public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Value;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Value;

    Derived operator++(int) {
        auto& self = static_cast<Derived&>(*this);
        Derived old = self;
        ++self;
        return old;
    }
};

} // namespace sfu::rtcp
