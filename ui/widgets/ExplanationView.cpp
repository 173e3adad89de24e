// SPDX-License-Identifier: GPL-3.0-or-later
#include "ExplanationView.h"

#include <QJsonArray>

namespace greygate {

namespace {

QString esc(const QJsonValue &v)
{
    return v.toVariant().toString().toHtmlEscaped();
}

QString outcomeColor(const QString &outcome)
{
    if (outcome == u"reject")
        return QStringLiteral("#b00020");
    if (outcome == u"bypass")
        return QStringLiteral("#2e7d32");
    return QStringLiteral("#a66300");
}

} // namespace

ExplanationView::ExplanationView(QWidget *parent)
    : QTextBrowser(parent)
{
    setObjectName(QStringLiteral("explanation"));
    setOpenLinks(false);
}

void ExplanationView::setExplanation(const QJsonObject &explanation, const QString &heading)
{
    setHtml(toHtml(explanation, heading));
}

void ExplanationView::setMessage(const QString &text, bool error)
{
    setHtml(error ? QStringLiteral("<p style=\"color:#b00020\">%1</p>").arg(text.toHtmlEscaped())
                  : QStringLiteral("<p>%1</p>").arg(text.toHtmlEscaped()));
}

QString ExplanationView::toHtml(const QJsonObject &e, const QString &heading)
{
    QString html;
    if (!heading.isEmpty())
        html += QStringLiteral("<p>%1</p>").arg(heading);
    const QString outcome = e.value(u"outcome").toString();
    html += QStringLiteral("<h3 style=\"color:%1\">%2</h3>")
                .arg(outcomeColor(outcome), esc(e.value(u"summary")));
    html += QStringLiteral("<p>");
    html += QObject::tr("Outcome: <b>%1</b>, decided by: <b>%2</b>")
                .arg(esc(e.value(u"outcome")), esc(e.value(u"reason")));
    const QJsonObject triplet = e.value(u"triplet").toObject();
    if (!triplet.isEmpty())
        html += QObject::tr("<br>Greylist state of this triplet: <b>%1</b>")
                    .arg(esc(triplet.value(u"state")));
    // Which key the triplet uses, and why (docs/spf.md): the network or the SPF domain.
    if (triplet.contains(u"key"))
        html += QObject::tr("<br>Triplet key: <b>%1</b> (%2)")
                    .arg(esc(triplet.value(u"key")), esc(triplet.value(u"keyWhy")));
    if (e.value(u"headerFromPending").toBool())
        html += QObject::tr("<br>A policy on the header From ranks higher: the SMTP proxy "
                            "decides again at the end of DATA.");
    html += QStringLiteral("</p>");

    const QJsonArray bypasses = e.value(u"bypasses").toArray();
    if (!bypasses.isEmpty()) {
        html += QObject::tr("<h4>Groups and Auto Allow holding this mail</h4><ul>");
        for (const QJsonValue &v : bypasses) {
            const QJsonObject b = v.toObject();
            html += QStringLiteral("<li><b>%1</b> %2: %3</li>")
                        .arg(esc(b.value(u"groupName").isString() ? b.value(u"groupName")
                                                                  : b.value(u"kind")),
                             esc(b.value(u"member")), esc(b.value(u"detail")));
        }
        html += QStringLiteral("</ul>");
    }
    const QJsonArray matched = e.value(u"matched").toArray();
    html += QObject::tr("<h4>Matching policies, in precedence order</h4>");
    if (matched.isEmpty())
        html += QObject::tr("<p>None: the default applies (greylist).</p>");
    else {
        html += QStringLiteral("<ol>");
        for (const QJsonValue &v : matched) {
            const QJsonObject m = v.toObject();
            const bool winner = m.value(u"winner").toBool();
            html +=
                QStringLiteral("<li>%1policy %2 \"%3\": %4%5%6%7</li>")
                    .arg(winner ? QObject::tr("<b>winner</b>: ") : QString(),
                         esc(m.value(u"policy")), esc(m.value(u"narrative")),
                         esc(m.value(u"action")),
                         m.value(u"reversed").toBool() ? QObject::tr(" (reversed)") : QString(),
                         m.contains(u"sourcePrefix")
                             ? QObject::tr(", source range /%1").arg(esc(m.value(u"sourcePrefix")))
                             : QString(),
                         m.contains(u"lostBecause")
                             ? QStringLiteral(" — <i>%1</i>").arg(esc(m.value(u"lostBecause")))
                             : QString());
        }
        html += QStringLiteral("</ol>");
    }
    const QJsonArray notMatched = e.value(u"notMatched").toArray();
    if (!notMatched.isEmpty()) {
        html += QObject::tr("<h4>Policies that did not match</h4><ul>");
        int shown = 0;
        for (const QJsonValue &v : notMatched) {
            if (++shown > 50)
                break;
            const QJsonObject m = v.toObject();
            html += QStringLiteral("<li>policy %1 \"%2\": %3</li>")
                        .arg(esc(m.value(u"policy")), esc(m.value(u"narrative")),
                             esc(m.value(u"reason")));
        }
        if (notMatched.size() > 50 || e.value(u"notMatchedTruncated").toBool())
            html += QObject::tr("<li>… and more</li>");
        html += QStringLiteral("</ul>");
    }
    return html;
}

} // namespace greygate
