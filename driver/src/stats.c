/*
 * stats.c - interface counters: virtio's counted here per frame, the VF's
 * sampled with OID_GEN_STATISTICS, both merged by lib/failover (fo_stats.h)
 * so the total the upper stack reads never goes backwards.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "stats.tmh"
#endif

UCHAR vfo_frame_cast(const UCHAR *dst)
{
    static const UCHAR bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    if (NdisEqualMemory(dst, bcast, 6))
        return VFO_CAST_BROADCAST;
    return (dst[0] & 1) ? VFO_CAST_MULTICAST : VFO_CAST_UNICAST;
}

void vfo_count_frame(LONG64 *c, UCHAR cast, ULONG len, bool rx)
{
    static const fo_stat pkts_rx[3] = { FO_STAT_IN_UCAST_PKTS, FO_STAT_IN_MCAST_PKTS,
                                        FO_STAT_IN_BCAST_PKTS };
    static const fo_stat octs_rx[3] = { FO_STAT_IN_UCAST_OCTETS, FO_STAT_IN_MCAST_OCTETS,
                                        FO_STAT_IN_BCAST_OCTETS };
    static const fo_stat pkts_tx[3] = { FO_STAT_OUT_UCAST_PKTS, FO_STAT_OUT_MCAST_PKTS,
                                        FO_STAT_OUT_BCAST_PKTS };
    static const fo_stat octs_tx[3] = { FO_STAT_OUT_UCAST_OCTETS, FO_STAT_OUT_MCAST_OCTETS,
                                        FO_STAT_OUT_BCAST_OCTETS };
    if (cast > VFO_CAST_BROADCAST)
        cast = VFO_CAST_UNICAST;
    vfo_count(&c[rx ? FO_STAT_IN_OCTETS : FO_STAT_OUT_OCTETS], len);
    vfo_count(&c[rx ? pkts_rx[cast] : pkts_tx[cast]], 1);
    vfo_count(&c[rx ? octs_rx[cast] : octs_tx[cast]], len);
}

void vfo_counters_from_ndis(const NDIS_STATISTICS_INFO *in, fo_counters *out)
{
    out->v[FO_STAT_IN_OCTETS] = in->ifHCInOctets;
    out->v[FO_STAT_IN_UCAST_PKTS] = in->ifHCInUcastPkts;
    out->v[FO_STAT_IN_MCAST_PKTS] = in->ifHCInMulticastPkts;
    out->v[FO_STAT_IN_BCAST_PKTS] = in->ifHCInBroadcastPkts;
    out->v[FO_STAT_OUT_OCTETS] = in->ifHCOutOctets;
    out->v[FO_STAT_OUT_UCAST_PKTS] = in->ifHCOutUcastPkts;
    out->v[FO_STAT_OUT_MCAST_PKTS] = in->ifHCOutMulticastPkts;
    out->v[FO_STAT_OUT_BCAST_PKTS] = in->ifHCOutBroadcastPkts;
    out->v[FO_STAT_IN_UCAST_OCTETS] = in->ifHCInUcastOctets;
    out->v[FO_STAT_IN_MCAST_OCTETS] = in->ifHCInMulticastOctets;
    out->v[FO_STAT_IN_BCAST_OCTETS] = in->ifHCInBroadcastOctets;
    out->v[FO_STAT_OUT_UCAST_OCTETS] = in->ifHCOutUcastOctets;
    out->v[FO_STAT_OUT_MCAST_OCTETS] = in->ifHCOutMulticastOctets;
    out->v[FO_STAT_OUT_BCAST_OCTETS] = in->ifHCOutBroadcastOctets;
    out->v[FO_STAT_IN_ERRORS] = in->ifInErrors;
    out->v[FO_STAT_IN_DISCARDS] = in->ifInDiscards;
    out->v[FO_STAT_OUT_ERRORS] = in->ifOutErrors;
    out->v[FO_STAT_OUT_DISCARDS] = in->ifOutDiscards;
}

void vfo_counters_to_ndis(const fo_counters *in, NDIS_STATISTICS_INFO *out)
{
    NdisZeroMemory(out, sizeof(*out));
    VFO_INIT_HEADER(&out->Header, NDIS_OBJECT_TYPE_DEFAULT, NDIS_STATISTICS_INFO_REVISION_1,
                    NDIS_SIZEOF_STATISTICS_INFO_REVISION_1);
    out->SupportedStatistics = VFO_STATISTICS_FLAGS;
    out->ifHCInOctets = in->v[FO_STAT_IN_OCTETS];
    out->ifHCInUcastPkts = in->v[FO_STAT_IN_UCAST_PKTS];
    out->ifHCInMulticastPkts = in->v[FO_STAT_IN_MCAST_PKTS];
    out->ifHCInBroadcastPkts = in->v[FO_STAT_IN_BCAST_PKTS];
    out->ifHCOutOctets = in->v[FO_STAT_OUT_OCTETS];
    out->ifHCOutUcastPkts = in->v[FO_STAT_OUT_UCAST_PKTS];
    out->ifHCOutMulticastPkts = in->v[FO_STAT_OUT_MCAST_PKTS];
    out->ifHCOutBroadcastPkts = in->v[FO_STAT_OUT_BCAST_PKTS];
    out->ifHCInUcastOctets = in->v[FO_STAT_IN_UCAST_OCTETS];
    out->ifHCInMulticastOctets = in->v[FO_STAT_IN_MCAST_OCTETS];
    out->ifHCInBroadcastOctets = in->v[FO_STAT_IN_BCAST_OCTETS];
    out->ifHCOutUcastOctets = in->v[FO_STAT_OUT_UCAST_OCTETS];
    out->ifHCOutMulticastOctets = in->v[FO_STAT_OUT_MCAST_OCTETS];
    out->ifHCOutBroadcastOctets = in->v[FO_STAT_OUT_BCAST_OCTETS];
    out->ifInErrors = in->v[FO_STAT_IN_ERRORS];
    out->ifInDiscards = in->v[FO_STAT_IN_DISCARDS];
    out->ifOutErrors = in->v[FO_STAT_OUT_ERRORS];
    out->ifOutDiscards = in->v[FO_STAT_OUT_DISCARDS];
}

/* The merged counters the upper stack reads: virtio's as of now plus the
 * VF's as of its last sample. */
void vfo_stats_total(vfo_adapter *ad, fo_counters *out)
{
    fo_counters sb;
    for (unsigned i = 0; i < FO_STAT_COUNT; i++)
        sb.v[i] = (uint64_t)InterlockedCompareExchange64(&ad->sb_ctr[i], 0, 0);
    sb.v[FO_STAT_IN_DISCARDS] += vfo_count_get(&ad->ctr.rx_dropped);
    sb.v[FO_STAT_OUT_DISCARDS] += vfo_count_get(&ad->ctr.tx_dropped);
    vfo_lock();
    fo_stats_sample(&ad->pair, FO_PATH_STANDBY, &sb, 64);
    fo_upper_stats(&ad->pair, out);
    vfo_unlock();
}
