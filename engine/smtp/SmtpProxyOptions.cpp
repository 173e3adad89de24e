// SPDX-License-Identifier: GPL-3.0-or-later
#include "SmtpProxyOptions.h"

namespace greygate {

bool SmtpProxyOptions::parsePassClient(QStringView text, PassClient *mode)
{
    static const struct
    {
        const char16_t *name;
        PassClient mode;
    } names[] = {{u"auto", PassClient::Auto},
                 {u"xclient", PassClient::Xclient},
                 {u"proxy-v1", PassClient::ProxyV1},
                 {u"proxy-v2", PassClient::ProxyV2},
                 {u"none", PassClient::None}};
    for (const auto &n : names) {
        if (text.compare(QStringView(n.name), Qt::CaseInsensitive) == 0) {
            *mode = n.mode;
            return true;
        }
    }
    return false;
}

QString SmtpProxyOptions::passClientName(PassClient mode)
{
    switch (mode) {
    case PassClient::Auto:
        return QStringLiteral("auto");
    case PassClient::Xclient:
        return QStringLiteral("xclient");
    case PassClient::ProxyV1:
        return QStringLiteral("proxy-v1");
    case PassClient::ProxyV2:
        return QStringLiteral("proxy-v2");
    case PassClient::None:
        break;
    }
    return QStringLiteral("none");
}

} // namespace greygate
