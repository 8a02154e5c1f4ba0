"""Redis CRC-64 (Jones, reflected) and the DUMP footer, for building payloads."""
POLY = 0x95AC9329AC4BC9B5
T = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ POLY if c & 1 else c >> 1
    T.append(c)
def crc64(b):
    c = 0
    for x in b:
        c = T[(c ^ x) & 0xff] ^ (c >> 8)
    return c
def seal(body, version=10):
    body = body + version.to_bytes(2, 'little')
    return body + crc64(body).to_bytes(8, 'little')
assert crc64(b"123456789") == 0xe9c6d914c4b8d9ca
