/*
 * vio.h - lib/virtio, a portable virtio 1.x driver core: the PCI modern
 * transport over an OS ops struct (vio_os.h, vio_pci.h) and split
 * virtqueues (vio_vq.h). Include this one header.
 */
#ifndef VIO_H
#define VIO_H

#include "vio_os.h"
#include "vio_pci.h"
#include "vio_spec.h"
#include "vio_types.h"
#include "vio_vq.h"

#endif /* VIO_H */
