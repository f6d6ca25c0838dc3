/*
 * vnet_config.c - the device configuration: MAC, link status, ANNOUNCE,
 * MTU, speed and duplex, read with the generation check and validated.
 * A bad value is counted and the previous (or the safe) value is kept.
 * Runs under the CTRL lock (see vnet.h).
 */
#include "vnet_internal.h"

/* Counts a bad configuration value and remembers the verdict. */
void vnet_cfg_error(vnet *n, vnet_status why)
{
    vnet_cfg_stats *c = &n->cfg.stats;

    n->cfg.last_error = why;
    switch (why) {
    case VNET_E_CFG_MAC:
        c->err_mac++;
        break;
    case VNET_E_CFG_MTU:
        c->err_mtu++;
        break;
    case VNET_E_CFG_MTU_CHANGED:
        c->err_mtu_changed++;
        break;
    case VNET_E_CFG_SPEED:
        c->err_speed++;
        break;
    case VNET_E_CFG_DUPLEX:
        c->err_duplex++;
        break;
    case VNET_E_CFG_STATUS:
        c->err_status++;
        break;
    case VNET_E_CFG_ANNOUNCE:
        c->err_announce++;
        break;
    default:
        c->err_read++;
        break;
    }
}

bool vnet_mac_usable(const uint8_t mac[6])
{
    static const uint8_t zero[6] = { 0 };

    return !(mac[0] & 1u) && memcmp(mac, zero, 6) != 0;
}

uint16_t vnet_read_device_mtu(vnet *n, bool *valid)
{
    uint8_t raw[2];

    *valid = false;
    if (vio_dev_config_read(n->dev, VNET_CFG_MTU, raw, 2) != VIO_OK) {
        vnet_cfg_error(n, VNET_E_CFG_READ);
        return 0;
    }
    if (vnet_le16(raw) < VNET_MTU_MIN) {
        /* 65535 is the largest value the field holds, so only the floor
         * can be violated. */
        vnet_cfg_error(n, VNET_E_CFG_MTU);
        return 0;
    }
    *valid = true;
    return vnet_le16(raw);
}

/* Bytes of configuration the negotiated features make us read. */
static uint32_t config_extent(const vnet *n)
{
    if (vnet_feat(n, VNET_F_SPEED_DUPLEX))
        return VNET_CFG_SIZE_USED;
    if (vnet_feat(n, VNET_F_MTU))
        return VNET_CFG_MTU + 2;
    if (vnet_feat(n, VNET_F_STATUS))
        return VNET_CFG_STATUS + 2;
    return vnet_feat(n, VNET_F_MAC) ? 6u : 0u;
}

/* One generation-consistent snapshot of everything we read. */
static vnet_status read_snapshot(vnet *n, uint8_t raw[VNET_CFG_SIZE_USED])
{
    uint32_t extent = config_extent(n);

    memset(raw, 0, VNET_CFG_SIZE_USED);
    if (extent && vio_dev_config_read(n->dev, 0, raw, extent) != VIO_OK) {
        vnet_cfg_error(n, VNET_E_CFG_READ);
        return VNET_E_CFG_READ;
    }
    return VNET_OK;
}

static uint32_t apply_status(vnet *n, uint16_t status, bool fresh)
{
    vnet_link_info *link = &n->cfg.link;
    uint32_t changes = 0;
    bool up = (status & VNET_S_LINK_UP) != 0;

    if (fresh && (status & ~(VNET_S_LINK_UP | VNET_S_ANNOUNCE)))
        vnet_cfg_error(n, VNET_E_CFG_STATUS); /* unknown bits: the known ones still count */
    if (up != link->link_up) {
        link->link_up = up;
        n->cfg.stats.link_changes++;
        changes |= VNET_CHG_LINK;
    }
    if (!(status & VNET_S_ANNOUNCE)) {
        link->announce = false;
    } else if (!vnet_feat(n, VNET_F_GUEST_ANNOUNCE)) {
        if (fresh)
            vnet_cfg_error(n, VNET_E_CFG_ANNOUNCE);
    } else if (!link->announce) {
        link->announce = true;
        n->cfg.stats.announces++;
        changes |= VNET_CHG_ANNOUNCE;
    }
    return changes;
}

static uint32_t apply_speed_duplex(vnet *n, const uint8_t *raw, bool fresh)
{
    vnet_link_info *link = &n->cfg.link;
    uint32_t speed;
    uint8_t duplex = raw[VNET_CFG_DUPLEX];

    memcpy(&speed, raw + VNET_CFG_SPEED, 4);
    /* The spec makes any speed above 0x7fffffff and any other duplex
     * value "unknown"; only the reserved all-ones speed is legitimate. */
    if (speed > VNET_SPEED_MAX && speed != VNET_SPEED_UNKNOWN) {
        if (fresh)
            vnet_cfg_error(n, VNET_E_CFG_SPEED);
        speed = VNET_SPEED_UNKNOWN;
    }
    if (duplex != VNET_DUPLEX_HALF && duplex != VNET_DUPLEX_FULL && duplex != VNET_DUPLEX_UNKNOWN) {
        if (fresh)
            vnet_cfg_error(n, VNET_E_CFG_DUPLEX);
        duplex = VNET_DUPLEX_UNKNOWN;
    }
    if (speed == link->speed_mbps && duplex == link->duplex)
        return 0;
    link->speed_mbps = speed;
    link->duplex = duplex;
    return VNET_CHG_SPEED;
}

/* Whether bytes [off, off + len) differ from the previous snapshot. */
static bool changed_since_last(const vnet *n, const uint8_t *raw, uint32_t off, uint32_t len)
{
    return memcmp(raw + off, n->cfg.last_raw + off, len) != 0;
}

static uint32_t apply_snapshot(vnet *n, const uint8_t *raw)
{
    uint32_t changes = 0;

    if (vnet_feat(n, VNET_F_STATUS))
        changes |= apply_status(n, vnet_le16(raw + VNET_CFG_STATUS),
                                changed_since_last(n, raw, VNET_CFG_STATUS, 2));
    if (vnet_feat(n, VNET_F_SPEED_DUPLEX))
        changes |= apply_speed_duplex(n, raw, changed_since_last(n, raw, VNET_CFG_SPEED, 5));
    /* The spec forbids a new MTU: keep ours. */
    if (vnet_feat(n, VNET_F_MTU) && vnet_le16(raw + VNET_CFG_MTU) != n->cfg.link.mtu &&
        changed_since_last(n, raw, VNET_CFG_MTU, 2))
        vnet_cfg_error(n, VNET_E_CFG_MTU_CHANGED);
    memcpy(n->cfg.last_raw, raw, VNET_CFG_SIZE_USED);
    return changes;
}

vnet_status vnet_config_initial(vnet *n)
{
    vnet_link_info *link = &n->cfg.link;
    uint8_t raw[VNET_CFG_SIZE_USED];
    vnet_status st;

    memset(link, 0, sizeof(*link));
    memset(n->cfg.last_raw, 0, sizeof(n->cfg.last_raw));
    link->link_up = true; /* without STATUS the spec says: assume it is up */
    link->speed_mbps = VNET_SPEED_UNKNOWN;
    link->duplex = VNET_DUPLEX_UNKNOWN;
    link->mtu = n->params.max_mtu;
    st = read_snapshot(n, raw);
    if (st != VNET_OK)
        return st;
    if (vnet_feat(n, VNET_F_MAC)) {
        memcpy(link->mac, raw + VNET_CFG_MAC, 6);
        link->mac_valid = true;
    }
    if (vnet_feat(n, VNET_F_MTU))
        link->mtu = vnet_le16(raw + VNET_CFG_MTU);
    apply_snapshot(n, raw);
    return VNET_OK;
}

vnet_status vnet_config_refresh(vnet *n, uint32_t *changes)
{
    uint8_t raw[VNET_CFG_SIZE_USED];
    uint32_t found = 0;
    vnet_status st;

    if (changes)
        *changes = 0;
    if (!n->started)
        return VNET_E_STATE;
    n->cfg.stats.refreshes++;
    if (vio_dev_needs_reset(n->dev))
        found |= VNET_CHG_NEEDS_RESET;
    st = read_snapshot(n, raw);
    if (st == VNET_OK)
        found |= apply_snapshot(n, raw);
    if (changes)
        *changes = found;
    return st;
}

void vnet_cfg_announce_acked(vnet *n)
{
    /* The device clears ANNOUNCE before it completes the ack, so a later
     * request is a new one even if no refresh saw the bit clear. */
    n->cfg.link.announce = false;
}

void vnet_link_info_get(const vnet *n, vnet_link_info *out)
{
    *out = n->cfg.link;
}

vnet_status vnet_config_last_error(const vnet *n)
{
    return n->cfg.last_error;
}
