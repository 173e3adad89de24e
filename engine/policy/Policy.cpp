// SPDX-License-Identifier: GPL-3.0-or-later
#include "Policy.h"

namespace greygate {

QString Policy::actionName(PolicyAction action)
{
    return action == PolicyAction::Bypass ? QStringLiteral("bypass") : QStringLiteral("greylist");
}

QString Policy::modeName(PolicyMode mode)
{
    return mode == PolicyMode::Shadow ? QStringLiteral("shadow") : QStringLiteral("enforce");
}

QString Policy::basisName(AddressBasis basis)
{
    switch (basis) {
    case AddressBasis::Envelope:
        return QStringLiteral("envelope");
    case AddressBasis::Header:
        return QStringLiteral("header");
    case AddressBasis::Both:
        return QStringLiteral("both");
    }
    return {};
}

} // namespace greygate
