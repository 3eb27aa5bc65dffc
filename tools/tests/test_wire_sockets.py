"""The Python client over real ZeroMQ sockets (tcp on 127.0.0.1 and ipc), Python on both ends."""

import sys
from pathlib import Path

import numpy as np
import pytest
import zmq

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from poyo_rt import (Output, OutputSubscriber, Rejection, SequenceTracker, SpikePublisher,  # noqa: E402
                     StageTimestamps, Status, WireError, decode, encode)
from poyo_rt.wire import RIG_TYPES  # noqa: E402


@pytest.fixture(params=["tcp", "ipc"])
def endpoint(request, tmp_path):
    return "tcp://127.0.0.1:*" if request.param == "tcp" else f"ipc://{tmp_path}/wire.sock"


def test_spike_publisher_to_a_subscriber(endpoint):
    context = zmq.Context()
    with SpikePublisher(endpoint, source_id=9, tick_rate=30_000, bind=True, context=context) as rig:
        sub = context.socket(zmq.SUB)
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(rig.endpoint)
        rig.wait_for_subscriber(lambda: sub.poll(0) != 0)
        rig.publish([10, 20, 20], [1, 2, 3])
        rig.publish([], [], watermark=400)
        rig.sequence += 2  # two batches lost on the way
        rig.publish([500], [4], watermark=600)
        tracker = SequenceTracker()
        received = []
        while len(received) < 3:
            assert sub.poll(5000), "the publisher's messages did not arrive"
            message = decode(sub.recv_multipart(), accept=RIG_TYPES)
            admission = tracker.admit(message)
            if message.topic == "spikes":
                received.append((message, admission))
        sub.close()
    first, empty, late = received
    assert first[0].times.tolist() == [10, 20, 20] and first[0].units.tolist() == [1, 2, 3]
    assert empty[0].watermark == 400 and len(empty[0].times) == 0
    assert late[0].times.tolist() == [500] and late[1].missed_messages == 2
    assert tracker.watermark(9) == 600
    context.term()


def output(tick: int) -> Output:
    return Output("cursor_velocity_2d", tick, 30_000, 0, 30_000, StageTimestamps(1, 2, 3, 4), [30_000],
                  np.array([[tick, -tick]], dtype=np.float32))


def test_output_subscriber_filters_counts_rejections_and_gaps(endpoint):
    context = zmq.Context()
    pub = context.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.bind(endpoint)
    with OutputSubscriber(pub.getsockopt_string(zmq.LAST_ENDPOINT), readouts=["cursor_velocity_2d"],
                          context=context) as sub:
        # Handshake: status heartbeats until the subscriber has one.
        while True:
            pub.send_multipart(encode(Status(model="test")))
            if isinstance(sub.receive(timeout=0.01), Status):
                break
        assert sub.last_status.model == "test" and not sub.last_status.source_stalled
        other = output(0)
        other.readout = "arm_position"
        pub.send_multipart(encode(other))  # filtered out by the subscription
        pub.send_multipart(encode(output(1)))
        bad = encode(output(2))
        pub.send_multipart(bad[:3])  # values frame missing
        pub.send_multipart(encode(output(4)))
        received = []
        while len(received) < 2:
            message = sub.receive(timeout=5)
            assert message is not None, "outputs did not arrive"
            if isinstance(message, Output):
                received.append(message)
        assert [m.tick_sequence for m in received] == [1, 4]
        assert received[1].values.tolist() == [[4.0, -4.0]]
        assert received[1].daemon_latency_ns == 3
        assert sub.rejected == {"frame_count": 1}
        assert sub.missed_ticks == 2
    pub.close()
    context.term()


def test_decode_rejects_daemon_messages_on_the_ingest_side():
    with pytest.raises(WireError) as error:
        decode(encode(output(1)), accept=RIG_TYPES)
    assert error.value.reason == Rejection.UNEXPECTED_TYPE


def test_spike_publisher_refuses_what_the_daemon_would_reject():
    with SpikePublisher("inproc://refuse", source_id=1, bind=True, context=zmq.Context()) as rig:
        for times, watermark, reason in [([5, 3], None, Rejection.UNSORTED_TIMES),
                                         ([-1, 3], None, Rejection.NEGATIVE_TIME),
                                         ([5, 9], 8, Rejection.WATERMARK_BEFORE_EVENTS)]:
            with pytest.raises(WireError) as error:
                rig.publish(times, [0, 1], watermark=watermark)
            assert error.value.reason == reason
        assert rig.sequence == 0
