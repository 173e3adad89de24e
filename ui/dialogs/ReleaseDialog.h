// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "models/ReleaseRequest.h"

#include <QDialog>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace greygate {

// A timed release, audited (docs/console.md, "Releases"): what is let through (one pending
// message, its sender, its domain; or mail expected from someone to someone), for how long
// (minutes, hours or days, up to 90 days) and why. OK stays disabled until the request is
// complete, the label under the form saying what is missing (ReleaseRequest::validate).
class ReleaseDialog : public QDialog
{
    Q_OBJECT

public:
    // The Queue page's "Release for...": the triplet fixed, released as itself, its sender
    // or its domain.
    static ReleaseDialog *forTriplet(const QString &client, const QString &sender,
                                     const QString &recipient, int count, QWidget *parent);
    // The Releases page: a sender or a domain for a while, or expected mail.
    explicit ReleaseDialog(bool expect, QWidget *parent = nullptr);

    ReleaseRequest request() const;
    QString validationError() const { return request().validate(); }

    QComboBox *kindBox() const { return m_kind; }
    QLineEdit *fromEdit() const { return m_from; }
    QLineEdit *toEdit() const { return m_to; }
    QSpinBox *amountBox() const { return m_amount; }
    QComboBox *unitBox() const { return m_unit; }
    QLineEdit *reasonEdit() const { return m_reason; }

private:
    ReleaseDialog(const QList<ReleaseRequest::Kind> &kinds, QWidget *parent);
    void validate();

    QString m_client; // the triplet's, from the queue
    QString m_tripletSender;
    QComboBox *m_kind;
    QLineEdit *m_from;
    QLineEdit *m_to;
    QSpinBox *m_amount;
    QComboBox *m_unit;
    QLineEdit *m_reason;
    QLabel *m_note;
    QLabel *m_error;
    QDialogButtonBox *m_buttons;
};

} // namespace greygate
