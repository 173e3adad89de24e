// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>

namespace greygate::protocol {

// A certificate's SHA-256 fingerprint as the control API pins it (docs/api.md, "TLS"):
// 64 lower-case hex digits. Admins copy it from greygated's start-up line or from a browser
// ("AB:CD:..."), so the separators and the case are accepted and dropped.
class Fingerprint
{
public:
    // The canonical form, or an empty string when the text is not 32 bytes of hex.
    static QString normalise(QStringView text);
};

} // namespace greygate::protocol
