DROP TABLE payments;
DROP TABLE wallets;
