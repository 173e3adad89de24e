// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QJsonObject>
#include <QTextBrowser>

namespace greygate {

// Shows a policy.explain answer (docs/policies.md, "Explain") for people: the outcome and
// why, the triplet's greylist state, the winning policy, every other candidate with the key
// it lost on, the policies that did not match and why (the first 50), and every group or
// Auto Allow entry that holds the mail. All text from the proxy is escaped.
class ExplanationView : public QTextBrowser
{
    Q_OBJECT

public:
    explicit ExplanationView(QWidget *parent = nullptr);

    void setExplanation(const QJsonObject &explanation, const QString &heading = QString());
    void setMessage(const QString &text, bool error = false);
    static QString toHtml(const QJsonObject &explanation, const QString &heading = QString());
};

} // namespace greygate
