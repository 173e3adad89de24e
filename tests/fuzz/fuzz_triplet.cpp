// SPDX-License-Identifier: GPL-3.0-or-later
// Client address, sender and recipient normalisation on hostile bytes (the input is split
// into the three fields at its first two newlines). Properties: an accepted triplet never
// holds the key separator or a control byte, stays within the field bound, splits back into
// itself, and normalising the recipient again changes nothing.
#include "FuzzCheck.h"
#include "greylist/TripletNormaliser.h"

#include <cstdint>

using namespace greygate;

namespace {

bool clean(const QByteArray &field)
{
    if (field.size() > TripletNormaliser::kMaxFieldBytes)
        return false;
    for (char c : field)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return false;
    return true;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));
    const qsizetype a = input.indexOf('\n');
    const qsizetype b = a < 0 ? -1 : input.indexOf('\n', a + 1);
    if (b < 0)
        return 0;
    const auto client = input.first(a);
    const auto sender = input.sliced(a + 1, b - a - 1);
    const auto recipient = input.sliced(b + 1);
    for (bool bySubnet : {true, false}) {
        GreylistConfig config;
        config.lookupBySubnet = bySubnet;
        config.recipientDelimiter = "+-";
        const TripletNormaliser normaliser(config);
        const auto key = normaliser.normalise(client, sender, recipient);
        if (!key)
            continue;
        FUZZ_CHECK(clean(key->client) && clean(key->sender) && clean(key->recipient));
        FUZZ_CHECK(!key->client.isEmpty());
        const auto back = TripletKey::split(key->joined());
        FUZZ_CHECK(back.has_value() && *back == *key);
        FUZZ_CHECK(normaliser.normaliseRecipient(key->recipient) == key->recipient);
        const qsizetype slash = key->client.indexOf('/');
        const QByteArray address = slash < 0 ? key->client : key->client.first(slash);
        FUZZ_CHECK(normaliser.clientKey(address) == key->client);
    }
    return 0;
}
