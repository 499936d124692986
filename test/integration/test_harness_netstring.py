"""Checks of the harness's own netstring codec (no worker needed)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import NetstringDecoder, NetstringError, ns_encode  # noqa: E402


class NetstringCodecTest(unittest.TestCase):

    def test_encode(self):
        self.assertEqual(ns_encode(b""), b"0:,")
        self.assertEqual(ns_encode(b"hello"), b"5:hello,")
        self.assertEqual(ns_encode("é"), b"2:\xc3\xa9,")

    def test_many_messages_in_one_chunk(self):
        d = NetstringDecoder()
        self.assertEqual(d.feed(b"1:a,0:,3:b,c,"), [b"a", b"", b"b,c"])
        self.assertEqual(d.buffered, 0)

    def test_one_byte_at_a_time(self):
        d = NetstringDecoder()
        data = ns_encode(b'{"id":1}') + ns_encode(b"x" * 12)
        out = []
        for i in range(len(data)):
            out += d.feed(data[i:i + 1])
        self.assertEqual(out, [b'{"id":1}', b"x" * 12])

    def test_split_across_chunks_keeps_rest(self):
        d = NetstringDecoder()
        self.assertEqual(d.feed(b"5:hel"), [])
        self.assertEqual(d.feed(b"lo,2:o"), [b"hello"])
        self.assertEqual(d.feed(b"k,"), [b"ok"])

    def test_garbage_raises(self):
        for bad in (b"abc:", b"12x:", b"3:abcX", b":", b"-1:"):
            with self.subTest(bad=bad):
                with self.assertRaises(NetstringError):
                    NetstringDecoder().feed(bad)

    def test_length_limit(self):
        d = NetstringDecoder(max_len=10)
        self.assertEqual(d.feed(b"10:0123456789,"), [b"0123456789"])
        with self.assertRaises(NetstringError):
            NetstringDecoder(max_len=10).feed(b"11:")
        with self.assertRaises(NetstringError):
            NetstringDecoder(max_len=10).feed(b"999")


if __name__ == "__main__":
    unittest.main()
