// SPDX-License-Identifier: GPL-3.0-or-later
#include "ReleaseDialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace greygate {

namespace {

using Kind = ReleaseRequest::Kind;

QString kindText(Kind kind)
{
    switch (kind) {
    case Kind::Triplet:
        return ReleaseDialog::tr("This message only (client, sender, recipient)");
    case Kind::Sender:
        return ReleaseDialog::tr("Everything from this sender");
    case Kind::Domain:
        return ReleaseDialog::tr("Everything from this sender's domain");
    case Kind::Expect:
        return ReleaseDialog::tr("Expected mail from a sender or domain to a recipient");
    }
    return {};
}

QString domainOf(const QString &address)
{
    const qsizetype at = address.lastIndexOf(u'@');
    return at < 0 ? address : address.mid(at + 1);
}

} // namespace

ReleaseDialog::ReleaseDialog(const QList<ReleaseRequest::Kind> &kinds, QWidget *parent)
    : QDialog(parent)
    , m_kind(new QComboBox(this))
    , m_from(new QLineEdit(this))
    , m_to(new QLineEdit(this))
    , m_amount(new QSpinBox(this))
    , m_unit(new QComboBox(this))
    , m_reason(new QLineEdit(this))
    , m_note(new QLabel(this))
    , m_error(new QLabel(this))
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this))
{
    for (const Kind kind : kinds)
        m_kind->addItem(kindText(kind), int(kind));
    m_kind->setObjectName(QStringLiteral("kind"));
    m_from->setObjectName(QStringLiteral("from"));
    m_to->setObjectName(QStringLiteral("to"));
    m_reason->setObjectName(QStringLiteral("reason"));
    m_from->setMaxLength(320);
    m_to->setMaxLength(320);
    m_reason->setMaxLength(int(ReleaseRequest::kMaxReason));
    m_reason->setPlaceholderText(tr("e.g. password reset for the CFO, ticket 4711"));
    m_amount->setRange(1, 90 * 24 * 60);
    m_amount->setValue(2);
    m_unit->addItem(tr("minutes"), 60);
    m_unit->addItem(tr("hours"), 3600);
    m_unit->addItem(tr("days"), 86400);
    m_unit->setCurrentIndex(1);
    m_note->setWordWrap(true);
    m_error->setObjectName(QStringLiteral("error"));
    m_error->setWordWrap(true);
    m_error->setStyleSheet(QStringLiteral("color: palette(link);"));

    auto *duration = new QHBoxLayout;
    duration->addWidget(m_amount);
    duration->addWidget(m_unit, 1);
    auto *form = new QFormLayout;
    form->addRow(tr("Let through:"), m_kind);
    form->addRow(tr("From:"), m_from);
    form->addRow(tr("To:"), m_to);
    form->addRow(tr("For:"), duration);
    form->addRow(tr("Reason:"), m_reason);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_note);
    layout->addWidget(m_error);
    layout->addWidget(m_buttons);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Release"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    for (QLineEdit *edit : {m_from, m_to, m_reason})
        connect(edit, &QLineEdit::textChanged, this, &ReleaseDialog::validate);
    connect(m_kind, &QComboBox::currentIndexChanged, this, &ReleaseDialog::validate);
    connect(m_amount, &QSpinBox::valueChanged, this, &ReleaseDialog::validate);
    connect(m_unit, &QComboBox::currentIndexChanged, this, &ReleaseDialog::validate);
    setMinimumWidth(460);
}

ReleaseDialog::ReleaseDialog(bool expect, QWidget *parent)
    : ReleaseDialog(expect ? QList<Kind>{Kind::Expect} : QList<Kind>{Kind::Sender, Kind::Domain},
                    parent)
{
    setWindowTitle(expect ? tr("Expect mail") : tr("Release a sender or a domain"));
    m_from->setPlaceholderText(expect ? tr("sender@example.com or example.com")
                                      : tr("sender@example.com (or example.com for a domain)"));
    m_to->setPlaceholderText(tr("recipient@your-domain"));
    m_to->setEnabled(expect);
    if (expect)
        m_amount->setValue(1);
    m_note->setText(expect ? tr("Mail from them to this recipient is let through without "
                                "greylisting until the time is up (a password reset, a "
                                "one-time code). Recorded in the audit log.")
                           : tr("Mail from them to anyone is let through without greylisting "
                                "until the time is up, then greylisted again. Recorded in "
                                "the audit log."));
    validate();
}

ReleaseDialog *ReleaseDialog::forTriplet(const QString &client, const QString &sender,
                                         const QString &recipient, int count, QWidget *parent)
{
    auto *d = new ReleaseDialog(QList<Kind>{Kind::Triplet, Kind::Sender, Kind::Domain}, parent);
    d->setWindowTitle(count > 1 ? tr("Release %n messages for a while", nullptr, count)
                                : tr("Release for a while"));
    d->m_client = client;
    d->m_tripletSender = sender;
    d->m_from->setText(sender.isEmpty() ? QStringLiteral("<>") : sender);
    d->m_to->setText(recipient);
    d->m_from->setReadOnly(true);
    d->m_to->setReadOnly(true);
    d->m_note->setText(count > 1 ? tr("Applies to each of the %n selected messages; the "
                                      "release ends by itself and is recorded in the audit log.",
                                      nullptr, count)
                                 : tr("The release ends by itself and is recorded in the audit "
                                      "log; the message's next retry is accepted."));
    d->validate();
    return d;
}

ReleaseRequest ReleaseDialog::request() const
{
    ReleaseRequest r;
    r.kind = Kind(m_kind->currentData().toInt());
    const QString from = m_from->text().trimmed();
    const QString sender = m_client.isEmpty() ? from : m_tripletSender;
    switch (r.kind) {
    case Kind::Triplet:
        r.client = m_client;
        r.sender = sender;
        r.recipient = m_to->text().trimmed();
        break;
    case Kind::Sender:
    case Kind::Domain:
        // A domain release from an address takes the address's domain.
        if (r.kind == Kind::Sender)
            r.sender = sender;
        else
            r.domain = domainOf(sender);
        break;
    case Kind::Expect:
        if (from.contains(u'@'))
            r.sender = from;
        else
            r.domain = from;
        r.recipient = m_to->text().trimmed();
        break;
    }
    r.seconds = qint64(m_amount->value()) * m_unit->currentData().toLongLong();
    r.reason = m_reason->text();
    return r;
}

void ReleaseDialog::validate()
{
    const QString error = validationError();
    m_error->setText(error.isEmpty() ? request().describe() : error);
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(error.isEmpty());
}

} // namespace greygate
