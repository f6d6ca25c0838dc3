/*
 * vnet.c - the adapter's life cycle: create, feature negotiation, start
 * (building or restarting the queues), stop, destroy, and statistics.
 */
#include "vnet_internal.h"

#define F(bit) VIO_FEATURE(bit)

#define VNET_DEFAULT_RING      256u
#define VNET_DEFAULT_CTRL_RING 64u
#define VNET_DEFAULT_BUF       2048u
#define VNET_DEFAULT_BUDGET    (1024u * 1024u)
#define VNET_DEFAULT_MTU       1500u
#define VNET_DEFAULT_COPY      128u
#define VNET_DEFAULT_INDIRECT  3u
#define VNET_DEFAULT_TIMEOUT   1000u
#define VNET_BUF_MIN           256u
#define VNET_BUF_MAX           65536u

vnet_status vnet_vio_error(vnet *n, vio_status st)
{
    n->last_vio = st;
    return st == VIO_E_NOMEM ? VNET_E_NOMEM : VNET_E_VIRTIO;
}

/* ---- features --------------------------------------------------------------- */

/* The virtio spec's "Feature bit requirements", for the features we take. */
static uint64_t drop_orphans(uint64_t f)
{
    if (!(f & F(VNET_F_CSUM)))
        f &= ~(F(VNET_F_HOST_TSO4) | F(VNET_F_HOST_TSO6));
    if (!(f & F(VNET_F_GUEST_CSUM)))
        f &= ~(F(VNET_F_GUEST_TSO4) | F(VNET_F_GUEST_TSO6));
    if (!(f & F(VNET_F_CTRL_VQ)))
        f &= ~(F(VNET_F_CTRL_RX) | F(VNET_F_CTRL_VLAN) | F(VNET_F_GUEST_ANNOUNCE) |
               F(VNET_F_CTRL_MAC_ADDR));
    return f;
}

uint64_t vnet_features_for(uint64_t offered, const vnet_params *params)
{
    uint64_t wanted = VNET_FEATURES_SUPPORTED;

    if (params) {
        wanted &= ~params->features_off;
        if (params->failover)
            wanted |= F(VNET_F_STANDBY);
    }
    /* ACCESS_PLATFORM: every address vfo gives the device comes from the
     * platform's DMA interfaces (shared memory, scatter/gather lists), so
     * the device may translate them through an IOMMU; a device that offers
     * it may refuse FEATURES_OK without it (QEMU's iommu_platform=on does). */
    return drop_orphans(offered & wanted) |
           (offered & (F(VIO_F_VERSION_1) | F(VIO_F_ACCESS_PLATFORM)));
}

uint64_t vnet_device_features(const vnet *n)
{
    return n->offered;
}

uint64_t vnet_features(const vnet *n)
{
    return n->features;
}

bool vnet_has_feature(const vnet *n, unsigned bit)
{
    return bit < 64 && vnet_feat(n, bit);
}

/* Configuration the device offers but cannot back up is not negotiated:
 * an MTU outside the spec's range, a MAC no NIC may own. */
static uint64_t screen_config(vnet *n, uint64_t wanted)
{
    uint8_t mac[6];
    bool valid;

    if (wanted & F(VNET_F_MTU)) {
        vnet_read_device_mtu(n, &valid);
        if (!valid)
            wanted &= ~F(VNET_F_MTU);
    }
    if (wanted & F(VNET_F_MAC)) {
        if (vio_dev_config_read(n->dev, VNET_CFG_MAC, mac, 6) != VIO_OK) {
            vnet_cfg_error(n, VNET_E_CFG_READ);
            wanted &= ~F(VNET_F_MAC);
        } else if (!vnet_mac_usable(mac)) {
            vnet_cfg_error(n, VNET_E_CFG_MAC);
            wanted &= ~F(VNET_F_MAC);
        }
    }
    return wanted;
}

/* ---- create / destroy ---------------------------------------------------------- */

static void apply_defaults(vnet_params *p)
{
    if (!p->rx_ring)
        p->rx_ring = VNET_DEFAULT_RING;
    if (!p->tx_ring)
        p->tx_ring = VNET_DEFAULT_RING;
    if (!p->ctrl_ring)
        p->ctrl_ring = VNET_DEFAULT_CTRL_RING;
    if (!p->rx_buf_size)
        p->rx_buf_size = VNET_DEFAULT_BUF;
    if (!p->rx_mem_budget)
        p->rx_mem_budget = VNET_DEFAULT_BUDGET;
    if (!p->max_mtu)
        p->max_mtu = VNET_DEFAULT_MTU;
    if (!p->tx_copy_break)
        p->tx_copy_break = VNET_DEFAULT_COPY;
    if (!p->tx_indirect_min)
        p->tx_indirect_min = VNET_DEFAULT_INDIRECT;
    if (!p->ctrl_timeout_ms)
        p->ctrl_timeout_ms = VNET_DEFAULT_TIMEOUT;
}

static bool params_valid(const vnet_params *p)
{
    return p->rx_buf_size >= VNET_BUF_MIN && p->rx_buf_size <= VNET_BUF_MAX &&
           p->tx_copy_break <= VNET_TX_COPY_MAX && p->max_mtu >= VNET_MTU_MIN;
}

static void choose_vectors(vnet *n)
{
    uint16_t granted = n->ops->msix_vector_count(n->os);
    vnet_vectors *v = &n->params.vectors;

    if (n->params.vectors_set)
        return;
    if (granted >= 4) {
        *v = (vnet_vectors){ 0, 1, 2, 3 };
    } else if (granted >= 1) {
        *v = (vnet_vectors){ 0, 0, 0, 0 };
    } else {
        *v = (vnet_vectors){ VIO_MSI_NO_VECTOR, VIO_MSI_NO_VECTOR, VIO_MSI_NO_VECTOR,
                             VIO_MSI_NO_VECTOR };
    }
}

vnet_status vnet_create(const vio_os_ops *ops, void *os, const vnet_params *params,
                        const vnet_callbacks *cb, void *cb_ctx, vnet **out)
{
    vio_dev *dev = NULL;
    vio_status st;
    vnet *n;

    if (!ops || !out || !cb || !cb->tx_done)
        return VNET_E_INVAL;
    *out = NULL;
    st = vio_dev_create(ops, os, NULL, &dev);
    if (st != VIO_OK)
        return st == VIO_E_NOMEM ? VNET_E_NOMEM : VNET_E_VIRTIO;
    if (vio_dev_device_type(dev) != 1 || vio_dev_num_queues(dev) < 2) {
        vio_dev_destroy(dev);
        return VNET_E_NOT_NET;
    }
    n = ops->mem_alloc(os, sizeof(*n));
    if (!n) {
        vio_dev_destroy(dev);
        return VNET_E_NOMEM;
    }
    n->ops = ops;
    n->os = os;
    if (params)
        n->params = *params;
    apply_defaults(&n->params);
    if (!params_valid(&n->params)) {
        vio_dev_destroy(dev);
        ops->mem_free(os, n, sizeof(*n));
        return VNET_E_INVAL;
    }
    n->cb = *cb;
    n->cb_ctx = cb_ctx;
    n->dev = dev;
    choose_vectors(n);
    *out = n;
    return VNET_OK;
}

static void free_queues(vnet *n)
{
    vnet_rx_free(n);
    vnet_tx_free(n);
    vnet_ctrl_free(n);
    n->built = false;
}

void vnet_destroy(vnet *n)
{
    if (!n)
        return;
    vnet_stop(n);
    free_queues(n);
    vio_dev_destroy(n->dev);
    n->ops->mem_free(n->os, n, sizeof(*n));
}

/* ---- start / stop ---------------------------------------------------------------- */

static uint32_t align64(uint32_t v)
{
    return (v + 63u) & ~63u;
}

/* How receive memory is cut, from the negotiated features and the MTU. */
static void plan_layout(const vnet *n, vnet_layout *l)
{
    bool gso = vnet_feat(n, VNET_F_GUEST_TSO4) || vnet_feat(n, VNET_F_GUEST_TSO6);
    uint32_t max_frame = (uint32_t)n->cfg.link.mtu + VNET_ETH_HLEN + VNET_VLAN_HLEN;
    uint32_t need = VNET_HDR_LEN + (gso ? VNET_GSO_FRAME_MAX : max_frame);

    memset(l, 0, sizeof(*l));
    l->mergeable = vnet_feat(n, VNET_F_MRG_RXBUF);
    l->ctrl = vnet_feat(n, VNET_F_CTRL_VQ);
    l->rx_max_frame = max_frame;
    if (l->mergeable) {
        /* Small buffers are fine as long as the largest frame still fits
         * in VNET_RX_MAX_SEGS of them. */
        uint32_t floor = align64((need + VNET_RX_MAX_SEGS - 1) / VNET_RX_MAX_SEGS);
        l->slot_size = align64(n->params.rx_buf_size);
        if (l->slot_size < floor)
            l->slot_size = floor;
        l->slots_per_buf = 1;
    } else if (need <= 4096u) {
        l->slot_size = align64(need);
        l->slots_per_buf = 1;
    } else {
        l->slot_size = 4096u;
        l->slots_per_buf = (need + 4095u) / 4096u;
    }
}

static bool same_layout(const vnet_layout *a, const vnet_layout *b)
{
    return a->mergeable == b->mergeable && a->ctrl == b->ctrl && a->slot_size == b->slot_size &&
           a->slots_per_buf == b->slots_per_buf && a->rx_max_frame == b->rx_max_frame;
}

static vnet_status create_queues(vnet *n)
{
    vnet_status st = vnet_rx_build(n, &n->layout);

    if (st == VNET_OK)
        st = vnet_tx_build(n);
    if (st == VNET_OK && n->layout.ctrl)
        st = vnet_ctrl_build(n);
    if (st != VNET_OK) {
        vio_dev_reset(n->dev);
        free_queues(n);
        return st;
    }
    n->built = true;
    return VNET_OK;
}

static vnet_status restart_queues(vnet *n)
{
    vio_vq *vqs[3] = { n->rx.vq, n->tx.vq, n->ctrl.vq };
    unsigned i;

    for (i = 0; i < 3; i++) {
        vio_status st;
        if (!vqs[i])
            continue;
        st = vio_vq_restart(vqs[i]);
        if (st != VIO_OK)
            return vnet_vio_error(n, st);
    }
    return VNET_OK;
}

static vnet_status negotiate(vnet *n)
{
    uint64_t wanted;
    vio_status st;

    st = vio_dev_begin_init(n->dev);
    if (st != VIO_OK)
        return vnet_vio_error(n, st);
    n->offered = vio_dev_device_features(n->dev);
    wanted = screen_config(n, vnet_features_for(n->offered, &n->params));
    st = vio_dev_negotiate(n->dev, wanted, &n->features);
    if (st != VIO_OK) {
        n->features = 0;
        return vnet_vio_error(n, st);
    }
    return VNET_OK;
}

static vnet_status build_or_restart(vnet *n)
{
    vnet_layout l;

    plan_layout(n, &l);
    if (n->built && !same_layout(&l, &n->layout)) {
        /* New receive memory: the old must no longer be lent to the OS. */
        if (vnet_rx_os_holds_frames(n))
            return VNET_E_BUSY;
        free_queues(n);
    }
    if (!n->built) {
        n->layout = l;
        return create_queues(n);
    }
    return restart_queues(n);
}

vnet_status vnet_start(vnet *n)
{
    vnet_status st;
    vio_status vst;

    if (!n || n->started)
        return VNET_E_STATE;
    st = negotiate(n);
    if (st == VNET_OK)
        st = vnet_config_initial(n);
    if (st == VNET_OK)
        st = build_or_restart(n);
    if (st != VNET_OK) {
        vio_dev_fail(n->dev);
        return st;
    }
    vnet_rx_configure(n);
    vnet_tx_configure(n);
    st = vnet_rx_post_all(n);
    if (st == VNET_OK) {
        vst = vio_dev_set_config_vector(n->dev, n->params.vectors.config);
        if (vst == VIO_OK)
            vst = vio_dev_driver_ok(n->dev);
        if (vst != VIO_OK)
            st = vnet_vio_error(n, vst);
    }
    if (st != VNET_OK) {
        vio_dev_reset(n->dev);
        vnet_rx_detach(n);
        return st;
    }
    n->started = true;
    vnet_rx_kick(n);
    return VNET_OK;
}

void vnet_stop(vnet *n)
{
    if (!n || !n->built)
        return;
    /* A device that is gone or stuck cannot be waited for; its buffers are
     * taken back all the same. */
    vio_dev_reset(n->dev);
    n->started = false;
    vnet_rx_detach(n);
    vnet_tx_detach(n);
    vnet_ctrl_detach(n);
}

bool vnet_is_started(const vnet *n)
{
    return n->started;
}

vio_status vnet_last_vio_status(const vnet *n)
{
    return n->last_vio;
}

vio_dev *vnet_vio_dev(vnet *n)
{
    return n->dev;
}

void vnet_get_stats(const vnet *n, vnet_stats *out)
{
    out->rx = n->rx.stats;
    out->tx = n->tx.stats;
    out->ctrl = n->ctrl.stats;
    out->cfg = n->cfg.stats;
}

void vnet_get_rx_stats(const vnet *n, vnet_rx_stats *out)
{
    *out = n->rx.stats;
}

void vnet_get_tx_stats(const vnet *n, vnet_tx_stats *out)
{
    *out = n->tx.stats;
}

void vnet_get_ctrl_stats(const vnet *n, vnet_ctrl_stats *ctrl, vnet_cfg_stats *cfg)
{
    *ctrl = n->ctrl.stats;
    *cfg = n->cfg.stats;
}
