"""Unit tests of the lab's measurements (tools/lab/labmeasure.py) on
synthetic captures: no root, no QEMU."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools", "lab"))
import labmeasure  # noqa: E402


def data(t, port="lta-e", n=1448):
    # A sniffer record: time, port, direction, kind, payload, frame length.
    return [t, port, "in", "tcp", n, n + 66]


class TcpGaps(unittest.TestCase):
    def test_gaps_longest_first_and_acks_ignored(self):
        records = [data(1.0), data(1.5), [2.0, "lta-e", "in", "tcp", 0, 66], data(4.0),
                   [4.5, "lta-e", "out", "tcp", 1448, 1514], data(5.0)]
        gaps = labmeasure.tcp_gaps(records, 1.0, 6.0)
        self.assertAlmostEqual(gaps[0][0], 2.5)  # 1.5 -> 4.0: the pure ACK does not count
        self.assertAlmostEqual(gaps[0][1], 1.5)
        self.assertAlmostEqual(gaps[1][0], 1.0)  # 4.0 -> 5.0: the peer's data does not count
        self.assertEqual(len(gaps), 5)

    def test_split_by_event_window(self):
        # One link event at t=10 whose VF link is back at 12: window [9, 14].
        run = {"tcp": {}, "hops": [{"t_event": 10.0, "t_vf_link_up": 12.0}]}
        records = [data(t) for t in (1.0, 2.0, 10.0, 13.0, 15.0, 22.0)]
        labmeasure.split_stalls(run, labmeasure.tcp_gaps(records, 1.0, 22.0))
        self.assertAlmostEqual(run["tcp"]["longest_stall_in_events_s"], 8.0)  # 2 -> 10 overlaps
        self.assertAlmostEqual(run["tcp"]["longest_stall_elsewhere_s"], 7.0)  # 15 -> 22

    def test_no_events_everything_elsewhere(self):
        run = {"tcp": {}, "hops": []}
        labmeasure.split_stalls(run, labmeasure.tcp_gaps([data(1.0), data(3.0)], 1.0, 3.0))
        self.assertEqual(run["tcp"]["longest_stall_in_events_s"], 0.0)
        self.assertAlmostEqual(run["tcp"]["longest_stall_elsewhere_s"], 2.0)


if __name__ == "__main__":
    unittest.main()
