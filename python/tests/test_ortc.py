"""ORTC negotiation: the host's ORTC suite, and the same inputs run through
the mediasoup Node host's own ortc.js (when node and the package are
available) with identical results required."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from sfu_host import UnsupportedError, get_supported_rtp_capabilities, ortc
from sfu_host.h264 import generate_profile_level_id_for_answer, parse_profile_level_id
from sfu_host.scalability_modes import parse_scalability_mode

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _mediasoup_package() -> Optional[Path]:
    candidates = [os.environ.get("SFU_MEDIASOUP_PKG", ""),
                  str(REPO / ".cache" / "mediasoup-3.8.4"),
                  str(REPO / "test" / "integration" / "browser" / "node_modules" / "mediasoup"),
                  str(REPO / "test" / "integration" / "host" / "node_modules" / "mediasoup")]
    for c in candidates:
        if not c:
            continue
        pkg = Path(c)
        deps = [pkg / "node_modules" / "h264-profile-level-id", pkg.parent / "h264-profile-level-id"]
        if (pkg / "lib" / "ortc.js").is_file() and any(d.is_dir() for d in deps):
            return pkg
    return None


@pytest.fixture
def counter_ssrcs(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """SSRCs from a counter (100000000, 100001000 ...), as the Node script
    does, so that results can be compared."""
    state = {"next": 100000000}

    def fake() -> int:
        value = state["next"]
        state["next"] += 1000
        return value

    monkeypatch.setattr(ortc, "generate_random_number", fake)
    yield


def media_codecs() -> List[Dict[str, Any]]:
    return [
        {"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2,
         "parameters": {"useinbandfec": 1, "foo": "bar"}},
        {"kind": "video", "mimeType": "video/VP8", "preferredPayloadType": 125,
         "clockRate": 90000},
        {"kind": "video", "mimeType": "video/H264", "clockRate": 90000,
         "parameters": {"level-asymmetry-allowed": 1, "profile-level-id": "42e01f",
                        "foo": "bar"},
         "rtcpFeedback": []},
    ]


# ----- the host's ORTC suite ------------------------------------------------

def test_generate_router_rtp_capabilities() -> None:
    given = media_codecs()
    original = copy.deepcopy(given)
    caps = ortc.generate_router_rtp_capabilities(given)
    assert given == original
    assert len(caps["codecs"]) == 5
    assert caps["codecs"][0] == {
        "kind": "audio", "mimeType": "audio/opus", "preferredPayloadType": 100,
        "clockRate": 48000, "channels": 2, "parameters": {"useinbandfec": 1, "foo": "bar"},
        "rtcpFeedback": [{"type": "transport-cc", "parameter": ""}]}
    assert caps["codecs"][1]["preferredPayloadType"] == 125
    assert caps["codecs"][1]["mimeType"] == "video/VP8"
    assert caps["codecs"][1]["rtcpFeedback"] == [
        {"type": "nack", "parameter": ""}, {"type": "nack", "parameter": "pli"},
        {"type": "ccm", "parameter": "fir"}, {"type": "goog-remb", "parameter": ""},
        {"type": "transport-cc", "parameter": ""}]
    assert caps["codecs"][2] == {"kind": "video", "mimeType": "video/rtx",
                                 "preferredPayloadType": 101, "clockRate": 90000,
                                 "parameters": {"apt": 125}, "rtcpFeedback": []}
    assert caps["codecs"][3]["preferredPayloadType"] == 102
    assert caps["codecs"][3]["parameters"] == {
        "packetization-mode": 0, "level-asymmetry-allowed": 1, "profile-level-id": "42e01f",
        "foo": "bar"}
    assert caps["codecs"][4]["parameters"] == {"apt": 102}


def test_generate_router_rtp_capabilities_errors() -> None:
    with pytest.raises(UnsupportedError):
        ortc.generate_router_rtp_capabilities([
            {"kind": "audio", "mimeType": "audio/chicken", "clockRate": 8000, "channels": 4}])
    with pytest.raises(UnsupportedError):  # opus with one channel is not supported
        ortc.generate_router_rtp_capabilities([
            {"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 1}])
    with pytest.raises(UnsupportedError, match="cannot allocate"):
        ortc.generate_router_rtp_capabilities(
            [{"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2}] * 100)
    with pytest.raises(ValueError, match="duplicated"):
        ortc.generate_router_rtp_capabilities([
            {"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2,
             "preferredPayloadType": 100},
            {"kind": "video", "mimeType": "video/VP8", "clockRate": 90000,
             "preferredPayloadType": 100}])
    with pytest.raises(TypeError):
        ortc.generate_router_rtp_capabilities({})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ortc.generate_router_rtp_capabilities([{"mimeType": "audio/opus"}])
    with pytest.raises(ValueError):
        ortc.generate_router_rtp_capabilities([{"mimeType": "opus", "clockRate": 1}])


def _h264_producer_parameters() -> Dict[str, Any]:
    return {
        "codecs": [
            {"mimeType": "video/H264", "payloadType": 111, "clockRate": 90000,
             "parameters": {"foo": 1234, "packetization-mode": 1, "profile-level-id": "4d0032"},
             "rtcpFeedback": [{"type": "nack", "parameter": ""},
                              {"type": "nack", "parameter": "pli"},
                              {"type": "goog-remb", "parameter": ""}]},
            {"mimeType": "video/rtx", "payloadType": 112, "clockRate": 90000,
             "parameters": {"apt": 111}, "rtcpFeedback": []},
        ],
        "headerExtensions": [{"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 1},
                             {"uri": "urn:3gpp:video-orientation", "id": 2}],
        "encodings": [
            {"ssrc": 11111111, "rtx": {"ssrc": 11111112}, "maxBitrate": 111111,
             "scalabilityMode": "L1T3"},
            {"ssrc": 21111111, "rtx": {"ssrc": 21111112}, "maxBitrate": 222222,
             "scalabilityMode": "L1T3"},
            {"rid": "high", "maxBitrate": 333333, "scalabilityMode": "L1T3"},
        ],
        "rtcp": {"cname": "qwerty1234"},
    }


def _h264_media_codecs() -> List[Dict[str, Any]]:
    return [
        {"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2},
        {"kind": "video", "mimeType": "video/H264", "clockRate": 90000,
         "parameters": {"level-asymmetry-allowed": 1, "packetization-mode": 1,
                        "profile-level-id": "4d0032", "bar": "lalala"}}]


def _h264_router_caps() -> Dict[str, Any]:
    return ortc.generate_router_rtp_capabilities(_h264_media_codecs())


def test_mapping_consumable_and_consumer_parameters() -> None:
    caps = _h264_router_caps()
    params = _h264_producer_parameters()
    ortc.validate_rtp_parameters(params)
    mapping = ortc.get_producer_rtp_parameters_mapping(params, caps)
    assert mapping["codecs"] == [{"payloadType": 111, "mappedPayloadType": 101},
                                 {"payloadType": 112, "mappedPayloadType": 102}]
    encs = mapping["encodings"]
    assert encs[0]["ssrc"] == 11111111 and "rid" not in encs[0]
    assert encs[2]["rid"] == "high" and "ssrc" not in encs[2]
    assert [e["mappedSsrc"] - encs[0]["mappedSsrc"] for e in encs] == [0, 1, 2]
    consumable = ortc.get_consumable_rtp_parameters("video", params, caps, mapping)
    assert consumable["codecs"][0]["payloadType"] == 101
    assert consumable["codecs"][0]["parameters"] == {
        "foo": 1234, "packetization-mode": 1, "profile-level-id": "4d0032"}
    assert consumable["codecs"][1] == {
        "mimeType": "video/rtx", "payloadType": 102, "clockRate": 90000,
        "parameters": {"apt": 101}, "rtcpFeedback": []}
    assert consumable["encodings"][0] == {"ssrc": encs[0]["mappedSsrc"], "maxBitrate": 111111,
                                          "scalabilityMode": "L1T3", "dtx": False}
    assert consumable["rtcp"] == {"cname": "qwerty1234", "reducedSize": True, "mux": True}

    remote_caps = {
        "codecs": [
            {"kind": "audio", "mimeType": "audio/opus", "preferredPayloadType": 100,
             "clockRate": 48000, "channels": 2},
            {"kind": "video", "mimeType": "video/H264", "preferredPayloadType": 101,
             "clockRate": 90000,
             "parameters": {"packetization-mode": 1, "profile-level-id": "4d0032", "baz": "LOLOL"},
             "rtcpFeedback": [{"type": "nack", "parameter": ""},
                              {"type": "nack", "parameter": "pli"},
                              {"type": "foo", "parameter": "FOO"}]},
            {"kind": "video", "mimeType": "video/rtx", "preferredPayloadType": 102,
             "clockRate": 90000, "parameters": {"apt": 101}, "rtcpFeedback": []},
        ],
        "headerExtensions": [
            {"kind": "video", "uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "preferredId": 1,
             "preferredEncrypt": False},
            {"kind": "video", "uri": "urn:3gpp:video-orientation", "preferredId": 11,
             "preferredEncrypt": False},
            {"kind": "video", "uri": "urn:ietf:params:rtp-hdrext:toffset", "preferredId": 12,
             "preferredEncrypt": False}],
    }
    ortc.validate_rtp_capabilities(remote_caps)
    assert ortc.can_consume(consumable, copy.deepcopy(remote_caps))
    consumer = ortc.get_consumer_rtp_parameters(consumable, remote_caps, False)
    assert consumer["codecs"][0]["rtcpFeedback"] == [
        {"type": "nack", "parameter": ""}, {"type": "nack", "parameter": "pli"},
        {"type": "foo", "parameter": "FOO"}]
    assert [e["uri"] for e in consumer["headerExtensions"]] == [
        "urn:ietf:params:rtp-hdrext:sdes:mid", "urn:3gpp:video-orientation",
        "urn:ietf:params:rtp-hdrext:toffset"]
    assert len(consumer["encodings"]) == 1
    enc = consumer["encodings"][0]
    assert enc["rtx"]["ssrc"] == enc["ssrc"] + 1
    assert enc["scalabilityMode"] == "S3T3"
    assert enc["maxBitrate"] == 333333
    pipe = ortc.get_pipe_consumer_rtp_parameters(consumable, False)
    assert [c["mimeType"] for c in pipe["codecs"]] == ["video/H264"]
    assert pipe["codecs"][0]["rtcpFeedback"] == [{"type": "nack", "parameter": "pli"},
                                                 {"type": "ccm", "parameter": "fir"}]
    assert [e["uri"] for e in pipe["headerExtensions"]] == [
        "http://tools.ietf.org/html/draft-ietf-avtext-framemarking-07",
        "urn:ietf:params:rtp-hdrext:framemarking", "urn:3gpp:video-orientation",
        "urn:ietf:params:rtp-hdrext:toffset"]
    assert len(pipe["encodings"]) == 3
    assert all("rtx" not in e for e in pipe["encodings"])
    pipe_rtx = ortc.get_pipe_consumer_rtp_parameters(consumable, True)
    assert [c["mimeType"] for c in pipe_rtx["codecs"]] == ["video/H264", "video/rtx"]
    assert all("rtx" in e for e in pipe_rtx["encodings"])


def test_mapping_with_incompatible_params() -> None:
    caps = ortc.generate_router_rtp_capabilities([
        {"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2},
        {"kind": "video", "mimeType": "video/H264", "clockRate": 90000,
         "parameters": {"packetization-mode": 1, "profile-level-id": "640032"}}])
    params = {"codecs": [{"mimeType": "video/VP8", "payloadType": 120, "clockRate": 90000}],
              "encodings": [{"ssrc": 1}]}
    ortc.validate_rtp_parameters(params)
    with pytest.raises(UnsupportedError):
        ortc.get_producer_rtp_parameters_mapping(params, caps)
    params = {"codecs": [{"mimeType": "video/H264", "payloadType": 120, "clockRate": 90000,
                          "parameters": {"packetization-mode": 1,
                                         "profile-level-id": "42e01f"}}],
              "encodings": [{"ssrc": 1}]}
    ortc.validate_rtp_parameters(params)
    with pytest.raises(UnsupportedError):
        ortc.get_producer_rtp_parameters_mapping(params, caps)


def test_validation_defaults_and_errors() -> None:
    params: Dict[str, Any] = {"codecs": [{"mimeType": "audio/opus", "payloadType": 111,
                                          "clockRate": 48000, "parameters": {"x": None}}]}
    ortc.validate_rtp_parameters(params)
    assert params == {
        "codecs": [{"mimeType": "audio/opus", "payloadType": 111, "clockRate": 48000,
                    "channels": 1, "parameters": {"x": ""}, "rtcpFeedback": []}],
        "headerExtensions": [], "encodings": [], "rtcp": {"reducedSize": True}}
    with pytest.raises(TypeError, match="apt"):
        ortc.validate_rtp_parameters({"codecs": [{"mimeType": "video/rtx", "payloadType": 1,
                                                  "clockRate": 90000,
                                                  "parameters": {"apt": "111"}}]})
    with pytest.raises(TypeError):
        ortc.validate_rtp_parameters({"codecs": [], "encodings": [{"rtx": {"ssrc": "x"}}]})
    with pytest.raises(TypeError):
        ortc.validate_rtp_parameters({"codecs": [], "headerExtensions": [{"uri": "u"}]})
    with pytest.raises(ValueError):
        ortc.validate_rtp_capabilities({"headerExtensions": [
            {"kind": "data", "uri": "u", "preferredId": 1}]})
    sctp: Dict[str, Any] = {"streamId": 1, "maxRetransmits": 2}
    ortc.validate_sctp_stream_parameters(sctp)
    assert sctp["ordered"] is False
    with pytest.raises(TypeError):
        ortc.validate_sctp_capabilities({"numStreams": {"OS": 1}})


def test_supported_capabilities_and_scalability_modes() -> None:
    caps = get_supported_rtp_capabilities()
    assert any(c["mimeType"] == "audio/multiopus" and c["channels"] == 6 for c in caps["codecs"])
    caps["codecs"].clear()
    assert get_supported_rtp_capabilities()["codecs"]
    assert parse_scalability_mode("L1T3") == (1, 3, False)
    assert parse_scalability_mode("S3T3") == (3, 3, False)
    assert parse_scalability_mode("L2T3_KEY") == (2, 3, True)
    assert parse_scalability_mode("S2T3FOO") == (2, 3, False)
    assert parse_scalability_mode("foo") == (1, 1, False)
    assert parse_scalability_mode(None) == (1, 1, False)
    assert parse_scalability_mode("ull") == (1, 1, False)
    assert parse_scalability_mode("S0T3") == (1, 1, False)
    assert parse_scalability_mode("S1T0") == (1, 1, False)
    assert parse_scalability_mode("L20T3") == (20, 3, False)
    assert parse_scalability_mode("S200T3") == (1, 1, False)


def test_h264_profile_level_id() -> None:
    assert parse_profile_level_id("42e01f") == (1, 31)
    assert parse_profile_level_id("4d0032") == (3, 50)
    assert parse_profile_level_id("42f00b") == (1, 0)
    assert parse_profile_level_id("640c1f") == (4, 31)
    assert parse_profile_level_id("000000") is None
    assert parse_profile_level_id("42e0ff") is None
    assert parse_profile_level_id("chicken") is None
    assert generate_profile_level_id_for_answer({}, {}) is None
    assert generate_profile_level_id_for_answer(
        {"profile-level-id": "42e01f", "level-asymmetry-allowed": 1},
        {"profile-level-id": "42e015", "level-asymmetry-allowed": "1"}) == "42e01f"
    assert generate_profile_level_id_for_answer(
        {"profile-level-id": "42e01f"}, {"profile-level-id": "42e015"}) == "42e015"
    with pytest.raises(ValueError):
        generate_profile_level_id_for_answer({"profile-level-id": "42e01f"},
                                             {"profile-level-id": "640c1f"})


# ----- comparison with the Node host ----------------------------------------

def _cases() -> List[Dict[str, Any]]:
    device_caps = {
        "codecs": [
            {"kind": "audio", "mimeType": "audio/opus", "preferredPayloadType": 100,
             "clockRate": 48000, "channels": 2},
            {"kind": "audio", "mimeType": "audio/multiopus", "preferredPayloadType": 96,
             "clockRate": 48000, "channels": 6,
             "parameters": {"num_streams": 4, "coupled_streams": 2}},
            {"kind": "video", "mimeType": "video/VP8", "preferredPayloadType": 101,
             "clockRate": 90000, "rtcpFeedback": [{"type": "nack"}, {"type": "transport-cc"},
                                                  {"type": "goog-remb"}]},
            {"kind": "video", "mimeType": "video/rtx", "preferredPayloadType": 102,
             "clockRate": 90000, "parameters": {"apt": 101}},
            {"kind": "video", "mimeType": "video/VP9", "preferredPayloadType": 103,
             "clockRate": 90000, "parameters": {"profile-id": 2},
             "rtcpFeedback": [{"type": "nack"}, {"type": "nack", "parameter": "pli"}]},
            {"kind": "video", "mimeType": "video/H264", "preferredPayloadType": 107,
             "clockRate": 90000,
             "parameters": {"packetization-mode": 1, "profile-level-id": "42e01f",
                            "level-asymmetry-allowed": 1},
             "rtcpFeedback": [{"type": "nack"}, {"type": "ccm", "parameter": "fir"},
                              {"type": "goog-remb"}]},
            {"kind": "video", "mimeType": "video/rtx", "preferredPayloadType": 108,
             "clockRate": 90000, "parameters": {"apt": 107}},
        ],
        "headerExtensions": [
            {"kind": "audio", "uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "preferredId": 1},
            {"kind": "video", "uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "preferredId": 1},
            {"kind": "video", "uri": ortc.TRANSPORT_CC_URI, "preferredId": 5},
            {"kind": "audio", "uri": ortc.ABS_SEND_TIME_URI, "preferredId": 4},
            {"kind": "audio", "uri": "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
             "preferredId": 10},
            {"kind": "video", "uri": "urn:3gpp:video-orientation", "preferredId": 11},
        ],
    }
    all_codecs = [
        {"kind": "audio", "mimeType": "audio/opus", "clockRate": 48000, "channels": 2,
         "parameters": {"useinbandfec": 1}},
        {"kind": "audio", "mimeType": "audio/multiopus", "clockRate": 48000, "channels": 6,
         "parameters": {"channel_mapping": "0,4,1,2,3,5", "num_streams": 4,
                        "coupled_streams": 2}},
        {"kind": "audio", "mimeType": "audio/PCMU", "clockRate": 8000},
        {"kind": "audio", "mimeType": "audio/G722", "clockRate": 8000,
         "preferredPayloadType": 9},
        {"kind": "video", "mimeType": "video/VP8", "clockRate": 90000},
        {"kind": "video", "mimeType": "video/VP9", "clockRate": 90000,
         "parameters": {"profile-id": 2, "x-google-start-bitrate": 1000}},
        {"kind": "video", "mimeType": "video/h264", "clockRate": 90000,
         "parameters": {"packetization-mode": 1, "profile-level-id": "4d0032",
                        "level-asymmetry-allowed": 1}},
        {"kind": "video", "mimeType": "video/H264", "clockRate": 90000,
         "parameters": {"packetization-mode": 1, "profile-level-id": "42e01f",
                        "level-asymmetry-allowed": 1}},
        {"kind": "video", "mimeType": "video/H265", "clockRate": 90000,
         "preferredPayloadType": 120},
    ]
    vp8_simulcast = {
        "mid": "1",
        "codecs": [{"mimeType": "video/VP8", "payloadType": 96, "clockRate": 90000,
                    "rtcpFeedback": [{"type": "goog-remb"}, {"type": "transport-cc"},
                                     {"type": "ccm", "parameter": "fir"}, {"type": "nack"},
                                     {"type": "nack", "parameter": "pli"}]},
                   {"mimeType": "video/rtx", "payloadType": 97, "clockRate": 90000,
                    "parameters": {"apt": 96}}],
        "headerExtensions": [
            {"uri": "urn:ietf:params:rtp-hdrext:sdes:mid", "id": 4},
            {"uri": "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id", "id": 5},
            {"uri": "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id", "id": 6},
            {"uri": ortc.TRANSPORT_CC_URI, "id": 3},
            {"uri": ortc.ABS_SEND_TIME_URI, "id": 2}],
        "encodings": [{"rid": "r0", "scalabilityMode": "L1T3", "maxBitrate": 100000},
                      {"rid": "r1", "scalabilityMode": "L1T3", "maxBitrate": 300000,
                       "dtx": "yes"},
                      {"rid": "r2", "scalabilityMode": "L1T3", "maxBitrate": 900000}],
        "rtcp": {"cname": "abc", "reducedSize": False},
    }
    vp9_svc = {
        "codecs": [{"mimeType": "video/VP9", "payloadType": 98, "clockRate": 90000,
                    "parameters": {"profile-id": 2}, "rtcpFeedback": [{"type": "nack"}]},
                   {"mimeType": "video/rtx", "payloadType": 99, "clockRate": 90000,
                    "parameters": {"apt": 98}}],
        "encodings": [{"ssrc": 5555, "rtx": {"ssrc": 5556}, "scalabilityMode": "L3T3_KEY"}],
        "rtcp": {"cname": "svc"},
    }
    h264_baseline = {
        "codecs": [{"mimeType": "video/H264", "payloadType": 102, "clockRate": 90000,
                    "parameters": {"packetization-mode": 1, "profile-level-id": "42e015",
                                   "level-asymmetry-allowed": 1}},
                   {"mimeType": "video/rtx", "payloadType": 103, "clockRate": 90000,
                    "parameters": {"apt": 102}}],
        "headerExtensions": [{"uri": "urn:3gpp:video-orientation", "id": 13, "encrypt": 0}],
        "encodings": [{"ssrc": 1, "rtx": {"ssrc": 2}}, {"ssrc": 3, "rtx": {"ssrc": 4}}],
    }
    multiopus = {
        "codecs": [{"mimeType": "audio/multiopus", "payloadType": 100, "clockRate": 48000,
                    "channels": 6, "parameters": {"num_streams": 4, "coupled_streams": 2,
                                                  "channel_mapping": "0,4,1,2,3,5"}}],
        "headerExtensions": [{"uri": "urn:ietf:params:rtp-hdrext:ssrc-audio-level", "id": 1}],
        "encodings": [{"ssrc": 777, "dtx": True}],
        "rtcp": {"cname": "mo"},
    }
    pcmu = {"codecs": [{"mimeType": "audio/PCMU", "payloadType": 0, "clockRate": 8000}],
            "encodings": [{"ssrc": 42}]}
    return [
        {"op": "routerCaps", "mediaCodecs": all_codecs},
        {"op": "routerCaps", "mediaCodecs": media_codecs()},
        {"op": "routerCaps", "mediaCodecs": []},
        {"op": "routerCaps", "mediaCodecs": [{"kind": "video", "mimeType": "video/H264",
                                              "clockRate": 90000}]},
        {"op": "routerCaps", "mediaCodecs": [{"kind": "audio", "mimeType": "audio/chicken",
                                              "clockRate": 1}]},
        {"op": "produce", "mediaCodecs": all_codecs, "kind": "video",
         "rtpParameters": vp8_simulcast, "consumerCaps": device_caps},
        {"op": "produce", "mediaCodecs": all_codecs, "kind": "video", "rtpParameters": vp9_svc,
         "consumerCaps": device_caps},
        {"op": "produce", "mediaCodecs": all_codecs, "kind": "video",
         "rtpParameters": h264_baseline, "consumerCaps": device_caps},
        {"op": "produce", "mediaCodecs": all_codecs, "kind": "audio", "rtpParameters": multiopus,
         "consumerCaps": device_caps},
        {"op": "produce", "mediaCodecs": all_codecs, "kind": "audio", "rtpParameters": pcmu,
         "consumerCaps": device_caps},
        {"op": "produce", "mediaCodecs": media_codecs(), "kind": "video",
         "rtpParameters": _h264_producer_parameters(), "consumerCaps": device_caps},
        {"op": "produce", "mediaCodecs": _h264_media_codecs(), "kind": "video",
         "rtpParameters": _h264_producer_parameters(), "consumerCaps": device_caps},
        {"op": "produce", "mediaCodecs": all_codecs[:1], "kind": "video",
         "rtpParameters": vp8_simulcast},
    ]


def _python_run(case: Dict[str, Any]) -> Dict[str, Any]:
    c = copy.deepcopy(case)
    state = {"next": 100000000}

    def fake() -> int:
        value = state["next"]
        state["next"] += 1000
        return value

    saved = ortc.generate_random_number
    ortc.generate_random_number = fake  # type: ignore[assignment]
    try:
        if c["op"] == "routerCaps":
            return {"ok": ortc.generate_router_rtp_capabilities(c["mediaCodecs"])}
        caps = ortc.generate_router_rtp_capabilities(c["mediaCodecs"])
        params = c["rtpParameters"]
        ortc.validate_rtp_parameters(params)
        if not params.get("encodings"):
            params["encodings"] = [{}]
        mapping = ortc.get_producer_rtp_parameters_mapping(params, caps)
        consumable = ortc.get_consumable_rtp_parameters(c["kind"], params, caps, mapping)
        out: Dict[str, Any] = {"params": params, "mapping": mapping, "consumable": consumable}
        if c.get("consumerCaps"):
            ortc.validate_rtp_capabilities(c["consumerCaps"])
            out["canConsume"] = ortc.can_consume(consumable, copy.deepcopy(c["consumerCaps"]))
            if out["canConsume"]:
                out["consumer"] = ortc.get_consumer_rtp_parameters(consumable,
                                                                   c["consumerCaps"], False)
                out["pipeConsumer"] = ortc.get_consumer_rtp_parameters(consumable,
                                                                       c["consumerCaps"], True)
        out["pipe"] = ortc.get_pipe_consumer_rtp_parameters(consumable, False)
        out["pipeRtx"] = ortc.get_pipe_consumer_rtp_parameters(consumable, True)
        return {"ok": out}
    except UnsupportedError as error:
        return {"error": "UnsupportedError", "message": str(error)}
    except (TypeError, ValueError) as error:
        return {"error": "TypeError", "message": str(error)}
    finally:
        ortc.generate_random_number = saved  # type: ignore[assignment]


def test_same_results_as_node_host() -> None:
    node = shutil.which("node")
    pkg = _mediasoup_package()
    if node is None or pkg is None:
        pytest.skip("node or the mediasoup 3.8.4 package is not available")
    cases = _cases()
    proc = subprocess.run([node, str(HERE / "ortc_node.js"), str(pkg)],
                          input=json.dumps(cases), capture_output=True, text=True, timeout=60,
                          check=True)
    expected = json.loads(proc.stdout)
    assert len(expected) == len(cases)
    for case, want in zip(cases, expected):
        got = json.loads(json.dumps(_python_run(case)))
        if "error" in want:
            assert "error" in got, (case["op"], got)
            assert got["error"] == want["error"], (want, got)
        else:
            assert got == want
