/* poppack.h: the SDK header that ends the packing a pshpack*.h started. */
#pragma pack(pop)
