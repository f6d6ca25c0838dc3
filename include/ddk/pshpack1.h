/* pshpack1.h: the SDK header that starts 1-byte structure packing. */
#pragma pack(push, 1)
