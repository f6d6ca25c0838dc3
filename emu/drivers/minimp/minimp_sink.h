/*
 * minimp_sink.h - what a sender puts in a control frame for sink_mp (the
 * minimal miniport built with MINIMP_SINK, minimp_sink.c): a frame of
 * exactly MP_SINK_CTL_LEN bytes with EtherType 0x88B5 and "SINK" after the
 * Ethernet header. Shared with the benchmarks that drive it.
 *
 *   [14..17] "SINK"  [18] op  [19..22] a0  [23..26] a1  [27..30] a2 (LE)
 *   op MP_SINK_OP_RX:      indicate a0 frames of a1 bytes, a2 NBLs per
 *                          indication (to the sink's own MAC, from
 *                          MP_SINK_PEER_MAC, EtherType 0x88B5)
 *   op MP_SINK_OP_TX_MODE: a0 = 0 complete sends in the send call,
 *                          1 complete them from the DPC (another CPU)
 */
#ifndef MINIMP_SINK_H
#define MINIMP_SINK_H

#define MP_SINK_CTL_LEN    61
#define MP_SINK_OP_RX      1
#define MP_SINK_OP_TX_MODE 2
#define MP_SINK_PEER_MAC                   \
    {                                      \
        0x02, 0x00, 0x00, 0x00, 0x5e, 0x01 \
    }

#endif
