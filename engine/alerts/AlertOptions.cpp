// SPDX-License-Identifier: GPL-3.0-or-later
#include "AlertOptions.h"

#include <functional>

namespace greygate {

namespace {

struct Key
{
    const char *name;
    double min;
    double max;
    std::function<void(AlertOptions &, double)> set;
};

const QList<Key> &table()
{
    static const QList<Key> keys = {
        {"enabled", 0, 1,
         [](AlertOptions &o, double v) {
             o.enabled = v != 0;
         }},
        {"deferral-window", 1, 1440,
         [](AlertOptions &o, double v) {
             o.deferralWindowMinutes = int(v);
         }},
        {"deferral-baseline", 5, 10080,
         [](AlertOptions &o, double v) {
             o.deferralBaselineMinutes = int(v);
         }},
        {"deferral-factor", 1.1, 1000,
         [](AlertOptions &o, double v) {
             o.deferralFactor = v;
         }},
        {"deferral-minimum", 1, 1e9,
         [](AlertOptions &o, double v) {
             o.deferralMinimum = int(v);
         }},
        {"failed-window", 5, 1440,
         [](AlertOptions &o, double v) {
             o.failedWindowMinutes = int(v);
         }},
        {"failed-baseline", 1, 168,
         [](AlertOptions &o, double v) {
             o.failedBaselineWindows = int(v);
         }},
        {"failed-factor", 1.1, 1000,
         [](AlertOptions &o, double v) {
             o.failedFactor = v;
         }},
        {"failed-minimum", 1, 1e9,
         [](AlertOptions &o, double v) {
             o.failedMinimum = int(v);
         }},
        {"store-grace", 0, 86400,
         [](AlertOptions &o, double v) {
             o.storeGraceSeconds = int(v);
         }},
        {"repeat", 1, 10080,
         [](AlertOptions &o, double v) {
             o.repeatMinutes = int(v);
         }},
        {"webhook-timeout", 1, 300,
         [](AlertOptions &o, double v) {
             o.webhookTimeoutSeconds = int(v);
         }},
        {"webhook-retries", 0, 20,
         [](AlertOptions &o, double v) {
             o.webhookRetries = int(v);
         }},
        {"webhook-max-backoff", 1, 3600,
         [](AlertOptions &o, double v) {
             o.webhookMaxBackoffSeconds = int(v);
         }},
        {"webhook-queue", 1, 10000,
         [](AlertOptions &o, double v) {
             o.webhookQueue = int(v);
         }},
    };
    return keys;
}

} // namespace

QStringList AlertOptions::keys()
{
    QStringList out;
    for (const Key &k : table())
        out.append(QLatin1String(k.name));
    return out;
}

bool AlertOptions::apply(const QString &settings, QString *error)
{
    for (const QString &item : settings.split(u',', Qt::SkipEmptyParts)) {
        const QString name = item.section(u'=', 0, 0).trimmed();
        const QString value = item.section(u'=', 1).trimmed();
        const auto it = std::find_if(table().cbegin(), table().cend(),
                                     [&](const Key &k) { return name == QLatin1String(k.name); });
        if (it == table().cend()) {
            *error = u'"' + name + u"\" is not an alert setting (" + keys().join(u", ") + u')';
            return false;
        }
        bool ok = false;
        double v = value.toDouble(&ok);
        if (name == u"enabled" && !ok) {
            ok = value == u"yes" || value == u"no";
            v = value == u"yes" ? 1 : 0;
        }
        if (!ok || v < it->min || v > it->max) {
            *error = name + u": \"" + value + u"\" is not a number in " + QString::number(it->min) +
                     u".." + QString::number(it->max);
            return false;
        }
        it->set(*this, v);
    }
    return true;
}

bool AlertOptions::setWebhook(const QString &url, QString *error)
{
    if (url.trimmed().isEmpty()) {
        webhook = QUrl();
        return true;
    }
    const QUrl u(url.trimmed(), QUrl::StrictMode);
    if (!u.isValid() || (u.scheme() != u"http" && u.scheme() != u"https") || u.host().isEmpty()) {
        *error = u'"' + url + u"\" is not an http:// or https:// URL";
        return false;
    }
    webhook = u;
    return true;
}

} // namespace greygate
